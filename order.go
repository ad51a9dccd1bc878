package e2e

import (
	"context"
	"errors"
)

// ServerInfo is the virtual server a run ordered.
type ServerInfo struct {
	ID         int
	Hostname   string
	Domain     string
	PowerState string
	PublicIP   string
	PrivateIP  string
}

// orderer orders servers from templates (the provision package).
type orderer interface{}

func newOrderer(cfg Config) (orderer, error) { return nil, nil }

// Order orders the configured server from the template, at most once, and
// waits until it is ready.
func (p *Pipeline) Order(ctx context.Context) (*ServerInfo, error) {
	return nil, &StepError{Stage: StageOrder, Err: errors.New("not wired yet")}
}
