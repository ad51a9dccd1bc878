// Command e2ecloud runs e2etest's emulated IBM Cloud as a process of its
// own, so programs in other processes (the CLI, benchmarks measuring their
// own memory, another language's SDK) can use it.
//
//	e2ecloud [-region us-south] [-time-scale 0.001] [-token-lifetime 1h] [-json FILE] [-env FILE]
//
// It prints the endpoints and credentials as one line of JSON on standard
// output, writes the same JSON to the -json file and shell export lines for
// e2eimage (IBMCLOUD_API_KEY, E2E_COS_URL, …) to the -env file, and serves
// until it gets SIGINT or SIGTERM; then it removes those files. The files
// appear complete (written aside, then renamed), so a script may wait for
// them to exist. The credentials are the emulator's own, made up at start:
// printing them is the point.
//
// The emulated COS keeps objects in this process's memory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/e2eimage/e2e/e2etest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "e2ecloud:", err)
		os.Exit(2)
	}
}

// run is main without the process: it serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("e2ecloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts e2etest.Options
	fs.StringVar(&opts.Region, "region", "us-south", "region of every emulated service")
	fs.Float64Var(&opts.TimeScale, "time-scale", 0.001, "factor on the cloud's long durations (imports, provisioning)")
	fs.DurationVar(&opts.TokenLifetime, "token-lifetime", time.Hour, "lifetime of IAM access tokens")
	jsonFile := fs.String("json", "", "also write the endpoints as JSON to `FILE`")
	envFile := fs.String("env", "", "also write shell export lines for e2eimage to `FILE`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opts.TimeScale <= 0 || opts.TokenLifetime <= 0 {
		return errors.New("-time-scale and -token-lifetime must be positive")
	}

	cloud, err := e2etest.Start(opts)
	if err != nil {
		return err
	}
	defer cloud.Close()
	info := infoOf(cloud)
	line, err := info.JSON()
	if err != nil {
		return err
	}
	var written []string
	defer func() {
		for _, f := range written {
			_ = os.Remove(f) // stale endpoints would mislead the next reader
		}
	}()
	for _, out := range []struct {
		path string
		data []byte
	}{{*jsonFile, line}, {*envFile, info.Env()}} {
		if out.path == "" {
			continue
		}
		if err := writeAtomic(out.path, out.data); err != nil {
			return err
		}
		written = append(written, out.path)
	}
	if _, err := stdout.Write(line); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "e2ecloud: serving on loopback; interrupt to stop")
	<-ctx.Done()
	return nil
}
