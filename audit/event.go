package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/logs-go-sdk/logsv0"
)

// Event is one Activity Tracker event: the CADF fields people filter on, and
// the whole event as Raw for the rest.
type Event struct {
	Time          time.Time // eventTime
	Action        string    // e.g. "kms.secrets.wrap"
	Outcome       string    // "success", "failure", "pending"
	Severity      string    // "normal", "warning", "critical"
	Message       string
	CorrelationID string
	Initiator     Initiator
	Target        Target
	Reason        Reason
	// Application and Subsystem are the Cloud Logs labels of the record:
	// "ibm-audit-event" and the emitting service (e.g. "kms").
	Application, Subsystem string
	// Raw is the event as the service stored it (the record's user data).
	Raw json.RawMessage
}

// Initiator is who caused an event.
type Initiator struct {
	ID          string // an IAM ID, e.g. "IBMid-…" or "iam-ServiceId-…"
	Name        string
	Type        string // typeURI, e.g. "service/security/account/user"
	HostAddress string
}

// Target is what an event acted on.
type Target struct {
	// ID is the resource's own ID: the last field of the CRN (a key ID, a
	// template ID), or the target ID as sent when it is not a CRN.
	ID string
	// CRN is the target's CRN, when its ID is one.
	CRN  string
	Name string
	Type string // typeURI, e.g. "kms/secrets"
}

// Reason is the HTTP-like result of an event.
type Reason struct {
	Code int    // e.g. 200, 403
	Type string // e.g. "OK", "Forbidden"
}

// cadf is the part of a CADF event that Event exposes.
type cadf struct {
	EventTime     string `json:"eventTime"`
	Action        string `json:"action"`
	Outcome       string `json:"outcome"`
	Severity      string `json:"severity"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Initiator     struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		TypeURI string `json:"typeURI"`
		Host    struct {
			Address string `json:"address"`
		} `json:"host"`
	} `json:"initiator"`
	Target struct {
		ID      string `json:"id"`
		CRN     string `json:"crn"`
		Name    string `json:"name"`
		TypeURI string `json:"typeURI"`
	} `json:"target"`
	Reason struct {
		ReasonCode json.Number `json:"reasonCode"`
		ReasonType string      `json:"reasonType"`
	} `json:"reason"`
}

// Time layouts of eventTime: RFC 3339, and Activity Tracker's own
// "2006-01-02T15:04:05.00-0700".
var eventTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05.999999999",
}

func parseEventTime(s string) (time.Time, bool) {
	for _, l := range eventTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decodeEvent turns one Cloud Logs result record into an Event.
func decodeEvent(r *logsv0.ApisDataprimeV1DataprimeResults) (Event, error) {
	if r == nil || r.UserData == nil {
		return Event{}, fmt.Errorf("%w: a result without user_data", ErrMalformedStream)
	}
	raw := []byte(*r.UserData)
	var c cadf
	if err := json.Unmarshal(raw, &c); err != nil {
		return Event{}, fmt.Errorf("%w: a result's user_data is not a CADF event: %v", ErrMalformedStream, err)
	}
	ev := Event{
		Action:        c.Action,
		Outcome:       c.Outcome,
		Severity:      c.Severity,
		Message:       c.Message,
		CorrelationID: c.CorrelationID,
		Initiator: Initiator{ID: c.Initiator.ID, Name: c.Initiator.Name, Type: c.Initiator.TypeURI,
			HostAddress: c.Initiator.Host.Address},
		Target: Target{ID: c.Target.ID, CRN: c.Target.CRN, Name: c.Target.Name, Type: c.Target.TypeURI},
		Reason: Reason{Type: c.Reason.ReasonType},
		Raw:    json.RawMessage(raw),
	}
	if strings.HasPrefix(c.Target.ID, "crn:") {
		ev.Target.CRN = c.Target.ID
		ev.Target.ID = c.Target.ID[strings.LastIndexByte(c.Target.ID, ':')+1:]
	}
	if c.Reason.ReasonCode != "" {
		n, err := c.Reason.ReasonCode.Int64()
		if err != nil || n != int64(int(n)) {
			return Event{}, fmt.Errorf("%w: reasonCode %q is not an integer", ErrMalformedStream, c.Reason.ReasonCode)
		}
		ev.Reason.Code = int(n)
	}
	var ts string
	for _, kv := range r.Labels {
		if kv.Key == nil || kv.Value == nil {
			continue
		}
		switch *kv.Key {
		case "applicationname":
			ev.Application = *kv.Value
		case "subsystemname":
			ev.Subsystem = *kv.Value
		}
	}
	for _, kv := range r.Metadata {
		if kv.Key != nil && kv.Value != nil && *kv.Key == "timestamp" {
			ts = *kv.Value
		}
	}
	// The event's own time wins; the record's ingestion time is a fallback.
	if t, ok := parseEventTime(c.EventTime); ok {
		ev.Time = t
	} else if t, ok := parseEventTime(ts); ok {
		ev.Time = t
	} else if c.EventTime != "" {
		return Event{}, fmt.Errorf("%w: eventTime %q is not a date-time", ErrMalformedStream, c.EventTime)
	}
	return ev, nil
}
