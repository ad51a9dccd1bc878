package cosuri_test

import (
	"errors"
	"testing"

	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/internal/cosuri"
	"github.com/e2eimage/e2e/storage"
)

// TestStorageAndImageAgree: the pipeline names its upload with
// storage.URI and imports it with image.ParseCOSURI. On every row both
// accept the same parts or both refuse, each with its package's error,
// so an upload never succeeds under a name the import refuses.
func TestStorageAndImageAgree(t *testing.T) {
	for _, c := range goodURIs {
		su, serr := storage.ParseURI(c.in)
		iu, ierr := image.ParseCOSURI(c.in)
		if serr != nil || ierr != nil {
			t.Errorf("%q: storage %v, image %v; want both to accept", c.in, serr, ierr)
			continue
		}
		if cosuri.URI(su) != c.want || cosuri.URI(iu) != c.want {
			t.Errorf("%q: storage reads %+v, image %+v, want %+v", c.in, su, iu, c.want)
		}
		if su.String() != c.in || iu.String() != c.in {
			t.Errorf("%q: storage prints %q, image %q", c.in, su.String(), iu.String())
		}
		if err := su.Validate(); err != nil {
			t.Errorf("%q: storage.URI.Validate = %v", c.in, err)
		}
	}
	for _, c := range badURIs {
		_, serr := storage.ParseURI(c.in)
		_, ierr := image.ParseCOSURI(c.in)
		if !errors.Is(serr, storage.ErrInvalidURI) || !errors.Is(serr, c.kind) {
			t.Errorf("storage.ParseURI(%q) = %v, want storage.ErrInvalidURI (%s)", c.in, serr, c.why)
		}
		var ve *image.ValidationError
		if !errors.Is(ierr, image.ErrInvalidRequest) || !errors.As(ierr, &ve) || ve.Field != "URI" {
			t.Errorf("image.ParseCOSURI(%q) = %v, want an image.ValidationError on URI (%s)", c.in, ierr, c.why)
		}
	}
}
