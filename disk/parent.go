package disk

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// openParent opens the parent (VHD) or backing file (qcow2) ref through
// o.parent, one level deeper in the chain; check may refuse it (e.g. a VHD
// uuid mismatch). The caller closes both the disk and the closer.
func openParent(ref ParentRef, o *openOptions, check func(Disk) error) (Disk, io.Closer, error) {
	if o == nil || o.parent == nil {
		return nil, nil, fmt.Errorf("%w: no parent opener for %q (use WithParentOpener or OpenFile)", ErrNoParent, ref.Name)
	}
	if o.depth >= maxChain {
		return nil, nil, fmt.Errorf("%w: chain deeper than %d images (a loop?)", ErrNoParent, maxChain)
	}
	ref.Dir = o.dir
	pr, psize, err := o.parent(ref)
	if err != nil {
		if errors.Is(err, ErrNoParent) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %q: %v", ErrNoParent, ref.Name, err)
	}
	closer, _ := pr.(io.Closer)
	po := *o
	po.depth++
	if n, ok := pr.(interface{ Name() string }); ok {
		po.dir = dirOf(n.Name())
	}
	p, err := open(pr, psize, &po)
	if err == nil && check != nil {
		if err = check(p); err != nil {
			p.Close()
		}
	}
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		if errors.Is(err, ErrNoParent) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("disk: parent %q: %w", ref.Name, err)
	}
	return p, closer, nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}
