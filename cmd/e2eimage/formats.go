package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"
)

// An encoder turns a plaintext disk image into one encrypted format. Each
// format registers itself from its own file (format_luks.go, …) with
// registerFormat; encrypt looks --format up in this table.
type encoder struct {
	// flags lists the optional encrypt flags the format understands
	// (e.g. "pbkdf"); giving any other is a usage error.
	flags []string
	// secret is the flag naming the secret's file: passphraseFlag (the
	// default when empty) or keyFlag.
	secret string
	// staged formats read the input at random offsets and report their
	// progress through encodeParams.stages; the others are read as a
	// stream whose bytes the progress bar counts.
	staged bool
	// encode reads the whole of src and writes the encrypted image to dst.
	// It checks p first and returns a usageError for a bad combination,
	// before writing anything.
	encode func(ctx context.Context, dst io.Writer, src io.Reader, p *encodeParams) error
}

// encodeParams is what the encrypt command line says. Zero values mean the
// format's default.
type encodeParams struct {
	secret     []byte // the passphrase or raw key; cleared by encrypt after encode returns
	workers    int
	iterTime   time.Duration
	pbkdf      string
	keySize    int // bits
	sectorSize int // bytes
	// in is the source: its size (-1 if unknown) and, for a file, an
	// io.ReaderAt for formats that need random access (a disk container).
	in *input
	// stages reports progress for staged formats; nil when not asked for.
	stages stageFunc
}

// secretFlag is the flag naming the format's secret file.
func (e encoder) secretFlag() string {
	if e.secret == "" {
		return passphraseFlag
	}
	return e.secret
}

var formats = map[string]encoder{}

func registerFormat(name string, e encoder) {
	if _, dup := formats[name]; dup {
		panic("e2eimage: duplicate format " + name)
	}
	formats[name] = e
}

func formatNames() string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, "|")
}
