// Package audit reads the Activity Tracker events of the encrypted-image
// workflow — Key Protect wraps and unwraps of the root key, the image
// template's creation, the server's provisioning and power actions — from
// IBM Cloud Logs, where Activity Tracker Event Routing sends them (the
// LogDNA-based Activity Tracker and its export API are retired).
//
// A Client wraps the official logs-go-sdk (logsv0) client of one Cloud Logs
// instance. Queries are built from Go values (Query) and rendered to
// DataPrime or Lucene with every value quoted and escaped, so no input can
// change a query's meaning. Events come as typed CADF events (Event) through
// Go iterators that stream as the service sends:
//
//	for ev, err := range client.Events(ctx, audit.Query{Start: t0, End: t1, Actions: []string{"kms.secrets."}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(ev.Time, ev.Action, ev.Target.Name, ev.Outcome)
//	}
//
// Events handles keep-alives, warnings and errors in the stream, retries
// 429 and 5xx answers and broken or idle streams (without delivering an
// event twice), splits
// long time ranges into windows and windows that hit the page limit into
// halves, and ends with a *TruncatedError (ErrTruncated) when results were
// cut short. Client.Background runs archive-tier searches as background
// queries; Client.Trail gathers the events of one run in time order.
//
// The package is tested against e2etest, whose Cloud Logs emulation serves
// the audit events of every call made to the emulated cloud.
package audit
