package disk

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

func TestOrderedKeepsOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		next := 0
		err := ordered(context.Background(), workers, 200, 8, func(i int, buf []byte) error {
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			}
			binary.LittleEndian.PutUint64(buf, uint64(i))
			return nil
		}, func(i int, buf []byte) error {
			if i != next || binary.LittleEndian.Uint64(buf) != uint64(i) {
				t.Fatalf("workers=%d: consumed %d (buffer says %d), want %d", workers, i, binary.LittleEndian.Uint64(buf), next)
			}
			next++
			return nil
		})
		if err != nil || next != 200 {
			t.Fatalf("workers=%d: err %v after %d", workers, err, next)
		}
	}
}

func TestOrderedErrors(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("boom")
	last := -1
	err := ordered(context.Background(), 3, 100, 8, func(i int, buf []byte) error {
		if i == 37 {
			return boom
		}
		return nil
	}, func(i int, buf []byte) error {
		last = i
		return nil
	})
	if !errors.Is(err, boom) || last != 36 {
		t.Errorf("produce error: err %v, last consumed %d (want 36)", err, last)
	}
	err = ordered(context.Background(), 3, 100, 8, func(i int, buf []byte) error { return nil },
		func(i int, buf []byte) error {
			if i == 5 {
				return boom
			}
			return nil
		})
	if !errors.Is(err, boom) {
		t.Errorf("consume error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = ordered(ctx, 2, 1000, 8, func(i int, buf []byte) error {
		if i == 10 {
			cancel()
		}
		return nil
	}, func(i int, buf []byte) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	// every goroutine is gone once ordered returns
	for range 50 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
}
