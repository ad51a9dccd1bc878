package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/internal/once"
)

// ErrOutcomeUnknown: a call that creates something (a root key) failed in a
// way that leaves open whether it took effect — the connection dropped or
// the service answered 5xx — so it was not retried, as a retry could create
// a second key. Look before trying again (EnsureRootKey does).
var ErrOutcomeUnknown = errors.New("keys: outcome unknown")

// createErr converts the error of a call made under once.Start: an
// ambiguous first attempt, or any failure that is not an answer of the
// service (a body cut short, a garbled 2xx), wraps ErrOutcomeUnknown.
func createErr(ctx context.Context, g *once.Guard, op string, err error) error {
	if ctx.Err() != nil {
		return convertError(ctx, op, "", err)
	}
	if o, ok := g.Ambiguous(); ok {
		corrID := o.Header.Get("correlation-id")
		if o.Err != nil {
			return fmt.Errorf("keys: %s (correlation-id %s): %w: not retried as it may have taken effect: %w",
				op, corrID, ErrOutcomeUnknown, o.Err)
		}
		se := &ServiceError{Op: op, Status: o.Status, CorrelationID: corrID, Err: ErrOutcomeUnknown}
		var env struct {
			Resources []struct {
				ErrorMsg string `json:"errorMsg"`
				Reasons  []struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"reasons"`
			} `json:"resources"`
		}
		if json.Unmarshal(o.Body, &env) == nil && len(env.Resources) > 0 {
			se.Message = env.Resources[0].ErrorMsg
			for _, r := range env.Resources[0].Reasons {
				se.Reasons = append(se.Reasons, Reason{Code: r.Code, Message: r.Message})
			}
		}
		if se.Message == "" {
			se.Message = http.StatusText(o.Status)
		}
		se.Message += " (not retried: it may have taken effect)"
		return se
	}
	var kerr *kp.Error
	if !errors.As(err, &kerr) {
		return fmt.Errorf("keys: %s: %w: the answer was lost, and the call not retried as it may have taken effect: %w",
			op, ErrOutcomeUnknown, err)
	}
	return convertError(ctx, op, "", err)
}
