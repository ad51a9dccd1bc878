package disk

import "testing"

// TestQCOWLayoutRefcounts checks the refcount fixed point on layouts too
// big to write in a test: every host cluster is covered, nothing is wasted.
func TestQCOWLayoutRefcounts(t *testing.T) {
	for _, c := range []struct{ size, data, luks int64 }{
		{1 << 20, 0, 0},
		{3 << 30, 32768 - 8, 0},       // crosses one refcount block
		{3 << 30, 32768 - 8, 2068480}, // with a LUKS header
		{100 << 30, 1600000, 2068480}, // 100 GiB, nearly dense
		{1 << 40, 1 << 16, 2068480},   // 1 TiB, sparse
		{2 << 40, 1 << 10, 0},         // 2 TiB, very sparse
	} {
		n := (c.size + qcowCS - 1) / qcowCS
		alloc := newBitset(n)
		step := max(1, n/max(1, c.data))
		var got int64
		for g := int64(0); g < n && got < c.data; g += step {
			alloc.set(g)
			got++
		}
		l := newQCOWLayout(c.size, alloc, c.luks)
		if l.nData != got {
			t.Errorf("%+v: nData %d, want %d", c, l.nData, got)
		}
		if l.rbc*qcowRefsPerBlk < l.total {
			t.Errorf("%+v: %d refcount blocks cannot cover %d clusters", c, l.rbc, l.total)
		}
		if (l.rbc-1)*qcowRefsPerBlk >= l.total {
			t.Errorf("%+v: %d refcount blocks, one too many for %d clusters", c, l.rbc, l.total)
		}
		if l.rtc*qcowCS/8 < l.rbc {
			t.Errorf("%+v: refcount table of %d clusters cannot list %d blocks", c, l.rtc, l.rbc)
		}
		if want := l.dataOff/qcowCS + l.nData; want != l.total {
			t.Errorf("%+v: data ends at cluster %d, total %d", c, want, l.total)
		}
		if l.l1Size*qcowL2Entries < n {
			t.Errorf("%+v: L1 of %d entries cannot map %d clusters", c, l.l1Size, n)
		}
	}
}

func TestBitsetNext(t *testing.T) {
	b := newBitset(300)
	for _, i := range []int64{0, 63, 64, 130, 299} {
		b.set(i)
	}
	var got []int64
	for i := b.next(0); i >= 0; i = b.next(i + 1) {
		got = append(got, i)
	}
	if len(got) != 5 || got[0] != 0 || got[1] != 63 || got[2] != 64 || got[3] != 130 || got[4] != 299 || b.count() != 5 {
		t.Errorf("next walk = %v, count %d", got, b.count())
	}
	if b.next(300) != -1 {
		t.Error("next past the end")
	}
}
