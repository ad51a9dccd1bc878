package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws a progress bar with throughput on a terminal line (stderr),
// redrawn a few times a second from its own goroutine, so the data path
// only adds to an atomic counter. When the total is unknown (a pipe) it
// shows a byte counter and the rate instead.
type progress struct {
	w     io.Writer
	total int64 // -1 when unknown
	label string
	n     atomic.Int64
	began atomic.Int64 // unix nanoseconds of the first byte, 0 before
	stop  chan struct{}
	wg    sync.WaitGroup
	width int // of the last line drawn, to blank leftovers
}

const progressEvery = 250 * time.Millisecond

func startProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, total: total, label: label, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw(false)
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// add is what the data path calls. The clock starts at the first byte, so
// the rate leaves out the key derivation that precedes the data.
func (p *progress) add(n int) {
	if p.began.Load() == 0 {
		p.began.CompareAndSwap(0, time.Now().UnixNano())
	}
	p.n.Add(int64(n))
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.draw(true)
}

func (p *progress) draw(final bool) {
	var elapsed time.Duration
	if b := p.began.Load(); b != 0 {
		elapsed = time.Since(time.Unix(0, b))
	}
	line := renderProgress(p.label, p.n.Load(), p.total, elapsed)
	pad := ""
	if len(line) < p.width {
		pad = strings.Repeat(" ", p.width-len(line))
	}
	p.width = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, pad, end)
}

const barWidth = 30

// renderProgress formats one progress line; it is pure, for tests.
func renderProgress(label string, done, total int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	if total < 0 {
		return fmt.Sprintf("%s %s  %s/s", label, humanBytes(done), humanBytes(int64(rate)))
	}
	frac := 1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	fill := int(frac * barWidth)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill)
	if fill > 0 && fill < barWidth {
		bar = bar[:fill-1] + ">" + bar[fill:]
	}
	eta := "--:--"
	if left := float64(total-done) / rate; rate > 0 && left >= 0 && left < 100*3600 {
		eta = clock(time.Duration(left * float64(time.Second)))
	}
	return fmt.Sprintf("%s [%s] %5.1f%% %s / %s  %s/s  ETA %s",
		label, bar, frac*100, humanBytes(done), humanBytes(total), humanBytes(int64(rate)), eta)
}

// humanBytes formats n with a binary unit: "512 B", "1.5 MiB".
func humanBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// set reports an absolute count, for sources that report their own
// progress (package disk) instead of being read through a counter.
func (p *progress) set(n int64) {
	if p.began.Load() == 0 && n > 0 {
		p.began.CompareAndSwap(0, time.Now().UnixNano())
	}
	p.n.Store(n)
}

// stageBars draws one bar per stage of a multi-pass operation, such as
// the zero scan and then the write of the disk formats: a new stage ends
// the previous bar's line and starts a bar of its own.
type stageBars struct {
	w     io.Writer
	stage string
	cur   *progress
}

// update is a stageFunc. Calls must not overlap (package disk guarantees
// it for its progress callbacks).
func (s *stageBars) update(stage string, done, total int64) {
	if s.cur == nil || stage != s.stage {
		if s.cur != nil {
			s.cur.finish()
		}
		s.cur = startProgress(s.w, stage, total)
		s.stage = stage
	}
	s.cur.set(done)
}

func (s *stageBars) finish() {
	if s.cur != nil {
		s.cur.finish()
		s.cur = nil
	}
}
