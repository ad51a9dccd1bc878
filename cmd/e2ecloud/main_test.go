package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/storage"
)

// TestServesUntilCancelled runs the command, reaches its COS with the
// printed credentials, stops it and checks its files are gone.
func TestServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	jsonFile, envFile := filepath.Join(dir, "cloud.json"), filepath.Join(dir, "cloud.env")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-region", "eu-de", "-json", jsonFile, "-env", envFile}, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()

	line, err := bufio.NewReader(pr).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no JSON line on stdout: %v", err)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain anything else
	fromFile, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromFile, line) {
		t.Errorf("-json file differs from stdout:\n%s\n%s", fromFile, line)
	}
	if st, err := os.Stat(jsonFile); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("-json file mode %v, want 0600", st.Mode())
	}

	// The printed fields decode into an e2etest.Cloud, field for field.
	var info Info
	if err := json.Unmarshal(line, &info); err != nil {
		t.Fatal(err)
	}
	var cloud e2etest.Cloud
	if err := json.Unmarshal(line, &cloud); err != nil {
		t.Fatal(err)
	}
	if got := infoOf(&cloud); got != info {
		t.Errorf("decoded into e2etest.Cloud:\n%+v\nwant\n%+v", got, info)
	}
	if info.Region != "eu-de" || info.APIKey == "" || info.HMACSecretAccessKey == "" {
		t.Errorf("incomplete info: region %q, API key set %v, HMAC set %v", info.Region, info.APIKey != "", info.HMACSecretAccessKey != "")
	}
	for name, u := range map[string]string{"iam": info.IAMURL, "kms": info.KMSURL, "cos": info.COSURL, "softlayer": info.SoftLayerURL, "logs": info.LogsURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("%s endpoint %q is not on loopback", name, u)
		}
	}

	// The endpoints work: the API key gets a token at IAM and COS takes a
	// bucket and an object.
	cl, err := storage.NewClient(storage.Config{Endpoint: info.COSURL, Region: info.Region, APIKey: info.APIKey,
		IAMURL: info.IAMURL, ServiceInstanceID: info.COSInstanceID, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.EnsureBucket(ctx, "probe"); err != nil {
		t.Fatalf("EnsureBucket on the served COS: %v", err)
	}
	if _, err := cl.Upload(ctx, "probe", "x", strings.NewReader("hello")); err != nil {
		t.Fatalf("Upload to the served COS: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	for _, f := range []string{jsonFile, envFile} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after stop (%v)", f, err)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".e2ecloud-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestRejectsBadArguments(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":    {"-bogus"},
		"extra argument":  {"now"},
		"zero time scale": {"-time-scale", "0"},
		"negative tokens": {"-token-lifetime", "-1s"},
		"json dir absent": {"-json", filepath.Join(t.TempDir(), "missing", "cloud.json")},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), args, &stdout, io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			if stdout.Len() > 0 {
				t.Errorf("printed endpoints despite the error: %q", stdout.String())
			}
		})
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// TestEnvFileSourcesInShell checks the export lines survive a POSIX shell,
// quotes included.
func TestEnvFileSourcesInShell(t *testing.T) {
	sh := testtool.Path(t, "sh")
	info := Info{APIKey: `it's "quoted" $HOME \n`, Region: "us-south", COSURL: "http://127.0.0.1:1"}
	f := filepath.Join(t.TempDir(), "env")
	if err := writeAtomic(f, info.Env()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sh, "-c", `. "$1" && printf '%s|%s|%s' "$IBMCLOUD_API_KEY" "$IBMCLOUD_REGION" "$E2E_COS_URL"`, "sh", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := info.APIKey + "|us-south|http://127.0.0.1:1"; string(out) != want {
		t.Errorf("sourced %q, want %q", out, want)
	}
}
