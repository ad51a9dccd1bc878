package e2etest

import (
	"net"
	"net/http"
	"time"
)

// Event is one audit event the cloud recorded, shaped like the CADF events
// Activity Tracker routes to IBM Cloud Logs.
type Event struct {
	ID            string         `json:"id"`
	EventTime     time.Time      `json:"eventTime"`
	Action        string         `json:"action"`   // e.g. "kms.secrets.wrap"
	Outcome       string         `json:"outcome"`  // "success" or "failure"
	Severity      string         `json:"severity"` // "normal", "warning" or "critical"
	Message       string         `json:"message"`
	Initiator     EventInitiator `json:"initiator"`
	Target        EventTarget    `json:"target"`
	Reason        EventReason    `json:"reason"`
	CorrelationID string         `json:"correlationId,omitempty"`
	RequestData   map[string]any `json:"requestData,omitempty"`
	ResponseData  map[string]any `json:"responseData,omitempty"`
	// Service is the emulated service that emitted the event (the Cloud Logs
	// subsystem); the Cloud Logs application is always "ibm-audit-event".
	Service Service `json:"-"`
}

// EventInitiator is who caused an event.
type EventInitiator struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	TypeURI    string `json:"typeURI"`
	Credential struct {
		Type string `json:"type"`
	} `json:"credential"`
	Host struct {
		Address string `json:"address"`
	} `json:"host"`
}

// EventTarget is what an event acted on.
type EventTarget struct {
	ID      string `json:"id"` // a CRN
	Name    string `json:"name"`
	TypeURI string `json:"typeURI"`
}

// EventReason carries the HTTP-like outcome code of an event.
type EventReason struct {
	ReasonCode int    `json:"reasonCode"`
	ReasonType string `json:"reasonType"`
}

// record stores an audit event; the time, ID and initiator are filled in
// from the request and identity when unset.
func (c *Cloud) record(r *http.Request, who Identity, ev Event) {
	if ev.ID == "" {
		ev.ID = newUUID()
	}
	if ev.EventTime.IsZero() {
		ev.EventTime = time.Now().UTC()
	}
	if ev.Outcome == "" {
		ev.Outcome = "success"
	}
	if ev.Severity == "" {
		ev.Severity = "normal"
	}
	if ev.Reason.ReasonCode == 0 {
		ev.Reason.ReasonCode = http.StatusOK
	}
	if ev.Reason.ReasonType == "" {
		ev.Reason.ReasonType = http.StatusText(ev.Reason.ReasonCode)
	}
	if ev.Initiator.ID == "" {
		ev.Initiator.ID = who.IAMID
		ev.Initiator.Name = who.Name
		ev.Initiator.TypeURI = "service/security/account/" + who.Kind
		ev.Initiator.Credential.Type = "token"
	}
	if r != nil {
		if ev.Initiator.Host.Address == "" {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			ev.Initiator.Host.Address = host
		}
		if ev.CorrelationID == "" {
			ev.CorrelationID = r.Header.Get("Correlation-Id")
		}
	}
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
}

// Events returns a copy of every audit event recorded so far, oldest first.
func (c *Cloud) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}
