package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/e2etest"
)

// Env is how every example finds its cloud. With IBMCLOUD_API_KEY set it
// returns env unchanged: the example talks to IBM Cloud. Otherwise it starts
// an emulated IBM Cloud, lets prepare make in it what the example needs, and
// returns env with prepare's settings laid over it (the names IBM Cloud runs
// set themselves); done stops the cloud.
func Env(ctx context.Context, out io.Writer, env func(string) string,
	prepare func(context.Context, *e2etest.Cloud) (map[string]string, error)) (_ func(string) string, done func(), _ error) {
	if env("IBMCLOUD_API_KEY") != "" {
		return env, func() {}, nil
	}
	cloud, err := e2etest.Start()
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, "IBMCLOUD_API_KEY is not set: using an emulated IBM Cloud (package e2etest)")
	m, err := prepare(ctx, cloud)
	if err != nil {
		cloud.Close()
		return nil, nil, fmt.Errorf("prepare the emulated cloud: %w", err)
	}
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return env(k) // the settings that are not the cloud's
	}, func() { cloud.Close() }, nil
}
