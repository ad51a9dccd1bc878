package e2etest

// SoftLayer REST emulation. OWNER: the image/provision work. Replace this file.

import "net/http"

type softlayerState struct{}

func (c *Cloud) softlayerHandler() http.Handler { return http.NotFoundHandler() }
