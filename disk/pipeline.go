package disk

import (
	"context"
	"errors"
	"sync"
)

var errShortRead = errors.New("disk: short read from source")

// ordered runs produce(i, buf) for i in [0, n) on workers goroutines and
// consume(i, buf) strictly in order on the calling goroutine, so the output
// stays sequential while reading and encryption run in parallel. At most
// 2·workers+1 buffers of bufSize bytes exist at once.
//
// internal/sector's Writer transforms one contiguous stream; the container
// writers interleave per-block metadata (VHD bitmaps, gaps) with the data
// and read from a random-access source, so they use this small ordered
// fan-out instead, with the same bounded-batch discipline.
func ordered(ctx context.Context, workers, n, bufSize int, produce func(i int, buf []byte) error, consume func(i int, buf []byte) error) error {
	if n == 0 {
		return ctx.Err()
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type slot struct {
		i    int
		buf  []byte
		err  error
		done chan struct{}
	}
	nbuf := 2*workers + 1
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- nil // allocated on first use
	}
	order := make(chan *slot, nbuf)
	work := make(chan *slot)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // dispatcher
		defer wg.Done()
		defer close(order)
		defer close(work)
		for i := 0; i < n; i++ {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return
			}
			if buf == nil {
				buf = make([]byte, bufSize)
			}
			s := &slot{i: i, buf: buf, done: make(chan struct{})}
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
			select {
			case work <- s:
			case <-ctx.Done():
				s.err = ctx.Err()
				close(s.done)
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if err := ctx.Err(); err != nil {
					s.err = err
				} else {
					s.err = produce(s.i, s.buf)
				}
				close(s.done)
			}
		}()
	}
	var err error
	consumed := 0
	for s := range order {
		<-s.done
		if s.err != nil {
			err = s.err
			break
		}
		if err = consume(s.i, s.buf); err != nil {
			break
		}
		consumed++
		free <- s.buf
	}
	cancel()
	wg.Wait()
	if err == nil && consumed < n {
		// the caller cancelled before every slot was dispatched
		err = parent.Err()
	}
	return err
}
