package e2etest

// SoftLayer REST emulation (/rest/v3.1), as softlayer-go's REST transport
// speaks it: {Service}[/{id}][/{method}].json, {"parameters":[…]},
// objectMask / objectFilter / resultLimit, {"error","code"} exceptions,
// Basic "apikey:<key>", "<username>:<key>" or an IAM bearer token.
//
// Emulated methods:
//   - SoftLayer_Virtual_Guest_Block_Device_Template_Group: createFromIcos,
//     createFromExternalSource, getObject, getStatus, getChildren,
//     getTransaction, getDatacenters, getGlobalIdentifier, isEncrypted,
//     deleteObject, copyToIcos, getPublicImages
//   - SoftLayer_Virtual_Guest: createObject, generateOrderTemplate, getObject,
//     getPowerState, getActiveTransaction(s), getTagReferences, setTags,
//     powerOn, powerOff, powerOffSoft, createArchiveTransaction, deleteObject
//   - SoftLayer_Product_Order: verifyOrder, placeOrder (saveAsQuote too)
//   - SoftLayer_Account: getBlockDeviceTemplateGroups,
//     getPrivateBlockDeviceTemplateGroups, getVirtualGuests, getHourlyVirtualGuests
//
// Masks return local properties (only the named ones when a mask names
// any) plus the relational properties named; filters support the usual
// operations (plain, = != ~ !~ *= ^= $= _= > < >= <=, in, is null, not null)
// on nested and list properties. This file holds routing, authentication and
// the wire format; the services are in softlayer_template.go,
// softlayer_guest.go and softlayer_order.go, masks in softlayer_mask.go.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// softlayerState is the classic infrastructure of the account. Guarded by Cloud.mu.
type softlayerState struct {
	nextTemplateID    int
	nextGuestID       int
	nextTransactionID int
	nextOrderID       int
	templates         map[int]*slTemplate
	guests            map[int]*slGuest
}

func (s *softlayerState) init() {
	if s.templates != nil {
		return
	}
	s.nextTemplateID = 3_100_000
	s.nextGuestID = 141_000_000
	s.nextTransactionID = 88_000_000
	s.nextOrderID = 120_000_000
	s.templates = map[int]*slTemplate{}
	s.guests = map[int]*slGuest{}
	for _, p := range slPublicImages {
		s.nextTemplateID++
		t := &slTemplate{
			ID: s.nextTemplateID, GlobalIdentifier: newUUID(), Name: p.name, Summary: p.name,
			OSReferenceCode: p.os, Public: true, Status: slTemplateActive, CreateDate: time.Now().Add(-90 * 24 * time.Hour),
			Datacenters: slAllDatacenters(), CloudInit: true, BootMode: "HVM",
		}
		s.templates[t.ID] = t
	}
}

// slPublicImages are the IBM-provided templates getPublicImages lists.
var slPublicImages = []struct{ name, os string }{
	{"Ubuntu 22.04 LTS Jammy Jellyfish Minimal Install (64 bit)", "UBUNTU_22_64"},
	{"Debian GNU/Linux 12.x bookworm/Stable - Minimal Install (64 bit)", "DEBIAN_12_64"},
	{"Red Hat Enterprise Linux 9.x - Minimal Install (64 bit)", "REDHAT_9_64"},
}

// slAccountID is the numeric (IMS) account ID SoftLayer objects carry,
// derived from the IBM Cloud account ID.
func (c *Cloud) slAccountID() int {
	n, _ := strconv.ParseUint(c.AccountID[:6], 16, 32)
	return int(n%900_000) + 100_000
}

// slError is a SoftLayer exception: HTTP status, exception class and message.
type slError struct {
	status int
	code   string
	msg    string
}

func (e *slError) Error() string { return e.code + ": " + e.msg }

func slErr(status int, code, format string, args ...any) *slError {
	return &slError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// The exceptions the emulator raises, as the real API names them.
const (
	exPublic          = "SoftLayer_Exception_Public"
	exNotFound        = "SoftLayer_Exception_ObjectNotFound"
	exInvalidToken    = "SoftLayer_Exception_InvalidLegacyToken"
	exTokenValidation = "SoftLayer_Exception_Account_Authentication_AccessTokenValidation"
	exInvalidLocation = "SoftLayer_Exception_Order_InvalidLocation"
	exItemInvalid     = "SoftLayer_Exception_Order_Item_Invalid"
	exInvalidData     = "SoftLayer_Exception_InvalidData"
	exNotReady        = "SoftLayer_Exception_NotReady"
	exRateLimit       = "SoftLayer_Exception_WebService_RateLimitExceeded"
)

func slNotFound(id int) *slError {
	return slErr(http.StatusNotFound, exNotFound, "Unable to find object with id of '%d'.", id)
}

// writeSLError answers in SoftLayer's error envelope.
func writeSLError(w http.ResponseWriter, status int, code, msg string) {
	if code == "" && status == http.StatusTooManyRequests {
		code = exRateLimit
	}
	body := map[string]string{"error": msg}
	if code != "" { // an injected fault without a code plays a failure in front of the API
		body["code"] = code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(body)
	_, _ = w.Write(b)
}

// writeSLResult answers a result the way the API does: compact JSON without
// a trailing newline (softlayer-go parses bool and int results with strconv).
func writeSLResult(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeSLError(w, http.StatusInternalServerError, exPublic, "Internal Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// slCall is one decoded API call.
type slCall struct {
	r       *http.Request
	who     Identity
	service string
	method  string
	id      int // 0 when the URL has no init parameter
	params  []json.RawMessage
	mask    *slMaskNode
	filter  map[string]any
	offset  int
	limit   int // 0: no limit
}

// param decodes the i-th parameter into v; a missing parameter leaves v alone.
func (call *slCall) param(i int, v any) error {
	if i >= len(call.params) || string(call.params[i]) == "null" {
		return nil
	}
	if err := json.Unmarshal(call.params[i], v); err != nil {
		return slErr(http.StatusInternalServerError, exInvalidData, "Invalid value for parameter %d of %s::%s: %v", i+1, call.service, call.method, err)
	}
	return nil
}

func (call *slCall) requireID() error {
	if call.id == 0 {
		return slErr(http.StatusInternalServerError, exPublic, "%s::%s must be called with an object id (init parameter).", call.service, call.method)
	}
	return nil
}

type slHandler func(c *Cloud, call *slCall) (any, error)

// slMethods routes "Service::method" to its handler.
var slMethods map[string]slHandler

func init() {
	slMethods = map[string]slHandler{}
	for k, v := range slTemplateMethods {
		slMethods[k] = v
	}
	for k, v := range slGuestMethods {
		slMethods[k] = v
	}
	for k, v := range slOrderMethods {
		slMethods[k] = v
	}
}

func (c *Cloud) softlayerHandler() http.Handler {
	c.mu.Lock()
	c.softlayer.init()
	c.mu.Unlock()
	return http.HandlerFunc(c.serveSoftLayer)
}

func (c *Cloud) serveSoftLayer(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/rest/v3.1/")
	if !ok {
		rest, ok = strings.CutPrefix(r.URL.Path, "/rest/v3/")
	}
	if !ok {
		writeSLError(w, http.StatusNotFound, exPublic, "Unknown endpoint; the REST API lives under /rest/v3.1/")
		return
	}
	rest, ok = strings.CutSuffix(rest, ".json")
	if !ok {
		writeSLError(w, http.StatusNotFound, exPublic, "Only the .json REST format is emulated")
		return
	}
	call := &slCall{r: r}
	segs := strings.Split(rest, "/")
	call.service = segs[0]
	segs = segs[1:]
	if len(segs) > 0 {
		if id, err := strconv.Atoi(segs[0]); err == nil {
			call.id = id
			segs = segs[1:]
		}
	}
	switch {
	case len(segs) == 1:
		call.method = segs[0]
	case len(segs) > 1:
		writeSLError(w, http.StatusNotFound, exPublic, "Malformed REST path "+r.URL.Path)
		return
	default:
		switch r.Method {
		case http.MethodGet:
			call.method = "getObject"
		case http.MethodPost:
			call.method = "createObject"
		case http.MethodDelete:
			call.method = "deleteObject"
		case http.MethodPut:
			call.method = "editObject"
		}
	}
	op := call.service + "::" + call.method
	w, handled := c.applyFault(ServiceSoftLayer, op, w, r, writeSLError)
	if handled {
		return
	}
	who, err := c.slAuthenticate(r)
	if err != nil {
		c.answerSL(w, nil, err)
		return
	}
	call.who = who
	if err := call.decode(); err != nil {
		c.answerSL(w, nil, err)
		return
	}
	h, ok := slMethods[op]
	if !ok {
		if !slKnownService(call.service) {
			c.answerSL(w, nil, slErr(http.StatusInternalServerError, exPublic, "Service does not exist: %s", call.service))
			return
		}
		c.answerSL(w, nil, slErr(http.StatusInternalServerError, exPublic, "Function (\"%s\") is not a valid method for this service.", call.method))
		return
	}
	res, err := h(c, call)
	c.answerSL(w, call, slResultOrErr(res, err))
}

type slResult struct{ v any }

func slResultOrErr(v any, err error) error {
	if err != nil {
		return err
	}
	return slResult{v}
}

func (slResult) Error() string { return "result" }

// answerSL writes a handler's result, applying the call's mask, filter and
// result limit, or its error.
func (c *Cloud) answerSL(w http.ResponseWriter, call *slCall, err error) {
	var res slResult
	if errors.As(err, &res) {
		v := res.v
		// Masks shape data objects; containers (order templates, receipts) come back whole.
		if call != nil && (strings.HasPrefix(call.method, "get") || strings.HasPrefix(call.method, "create")) {
			v = call.shape(w, v)
		}
		writeSLResult(w, v)
		return
	}
	var se *slError
	if errors.As(err, &se) {
		writeSLError(w, se.status, se.code, se.msg)
		return
	}
	writeSLError(w, http.StatusInternalServerError, exPublic, err.Error())
}

func slKnownService(s string) bool {
	for k := range slMethods {
		if strings.HasPrefix(k, s+"::") {
			return true
		}
	}
	return false
}

// decode reads the parameters, object mask, object filter and result limit.
func (call *slCall) decode() error {
	r := call.r
	if r.Body != nil && r.ContentLength != 0 {
		var body struct {
			Parameters []json.RawMessage `json:"parameters"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 8<<20))
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			return slErr(http.StatusInternalServerError, exPublic, "Unable to parse the request body: %v", err)
		}
		call.params = body.Parameters
	}
	q := r.URL.Query()
	if m := q.Get("objectMask"); m != "" {
		node, err := slParseMask(m)
		if err != nil {
			return slErr(http.StatusInternalServerError, exPublic, "Unable to parse object mask: %v", err)
		}
		call.mask = node
	}
	if f := q.Get("objectFilter"); f != "" {
		if err := json.Unmarshal([]byte(f), &call.filter); err != nil {
			return slErr(http.StatusInternalServerError, exPublic, "Unable to parse object filter: %v", err)
		}
	}
	if l := q.Get("resultLimit"); l != "" {
		off, lim, ok := strings.Cut(l, ",")
		if !ok {
			lim, off = off, "0"
		}
		o, err1 := strconv.Atoi(strings.TrimSpace(off))
		n, err2 := strconv.Atoi(strings.TrimSpace(lim))
		if err1 != nil || err2 != nil || o < 0 || n < 0 {
			return slErr(http.StatusInternalServerError, exPublic, "Invalid resultLimit %q", l)
		}
		call.offset, call.limit = o, n
	}
	return nil
}

// slAuthenticate accepts the three ways softlayer-go authenticates: Basic
// "apikey:<IBM Cloud API key>", Basic "<username>:<classic API key>", and an
// IAM bearer token.
func (c *Cloud) slAuthenticate(r *http.Request) (Identity, error) {
	if user, key, ok := r.BasicAuth(); ok {
		id, found := c.lookupAPIKey(key)
		switch {
		case !found:
			return Identity{}, slErr(http.StatusUnauthorized, exInvalidToken, "Invalid API token.")
		case user == "apikey":
			return id, nil
		case user == c.Username && key == c.APIKey:
			return id, nil
		default:
			return Identity{}, slErr(http.StatusUnauthorized, exInvalidToken, "Invalid API token.")
		}
	}
	if strings.TrimSpace(r.Header.Get("Authorization")) == "" {
		return Identity{}, slErr(http.StatusUnauthorized, exPublic, "Access Denied. ")
	}
	id, err := c.authenticate(r)
	if err != nil {
		// softlayer-go refreshes IAM tokens on exactly this status and code.
		return Identity{}, slErr(http.StatusInternalServerError, exTokenValidation, "IAM access token validation failed: %v", err)
	}
	return id, nil
}

// slTransaction is a provisioning transaction: a named sequence of steps
// spread over a scaled duration.
type slTransaction struct {
	ID       int
	Group    string
	Steps    []string
	Start    time.Time
	Duration time.Duration // emulator time
	GuestID  int
}

// step is the name of the step the transaction is in at now.
func (t *slTransaction) step(now time.Time) string {
	if t.Duration <= 0 {
		return t.Steps[len(t.Steps)-1]
	}
	i := int(float64(now.Sub(t.Start)) / float64(t.Duration) * float64(len(t.Steps)))
	i = min(max(i, 0), len(t.Steps)-1)
	return t.Steps[i]
}

func (t *slTransaction) render(now time.Time) map[string]any {
	if t == nil {
		return nil
	}
	step := t.step(now)
	m := map[string]any{
		"id":               t.ID,
		"createDate":       slTime(t.Start),
		"modifyDate":       slTime(now),
		"elapsedSeconds":   int(now.Sub(t.Start) / time.Second),
		"statusChangeDate": slTime(now),
		"transactionStatus": map[string]any{
			"name": step, "friendlyName": slFriendly(step),
		},
		"transactionGroup": map[string]any{"name": t.Group},
	}
	if t.GuestID != 0 {
		m["guestId"] = t.GuestID
	}
	return m
}

func slFriendly(step string) string {
	return strings.ReplaceAll(strings.ToLower(step), "_", " ")
}

func (c *Cloud) slNewTransaction(group string, steps []string, cloudDuration time.Duration) *slTransaction {
	c.softlayer.nextTransactionID++
	return &slTransaction{ID: c.softlayer.nextTransactionID, Group: group, Steps: steps,
		Start: time.Now(), Duration: c.scaled(cloudDuration)}
}

// slAfter runs f once d has passed, unless the cloud closed first; Close
// stops the timer or waits for f.
func (c *Cloud) slAfter(d time.Duration, f func()) {
	c.bg.after(d, func() {
		select {
		case <-c.done:
			return
		default:
		}
		f()
	})
}

// slTime formats a time the way the SoftLayer API does (RFC 3339, seconds,
// Central time offset in production; UTC here).
func slTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Datacenters by region, as classic infrastructure names them.
var slRegionDatacenters = map[string][]string{
	"us-south": {"dal10", "dal12", "dal13"},
	"us-east":  {"wdc04", "wdc06", "wdc07"},
	"eu-de":    {"fra02", "fra04", "fra05"},
	"eu-gb":    {"lon04", "lon05", "lon06"},
	"jp-tok":   {"tok02", "tok04", "tok05"},
	"au-syd":   {"syd01", "syd04", "syd05"},
	"ca-tor":   {"tor01", "tor04", "tor05"},
	"br-sao":   {"sao01", "sao04", "sao05"},
}

func slAllDatacenters() []string {
	var all []string
	for _, r := range slSortedKeys(slRegionDatacenters) {
		all = append(all, slRegionDatacenters[r]...)
	}
	return all
}

func slDatacenterRegion(dc string) (string, bool) {
	for r, dcs := range slRegionDatacenters {
		for _, d := range dcs {
			if d == dc {
				return r, true
			}
		}
	}
	return "", false
}

// location renders a datacenter as a SoftLayer_Location.
func slLocation(dc string) map[string]any {
	id := 0
	for _, ch := range dc {
		id = id*31 + int(ch)
	}
	return map[string]any{"id": id%1_000_000 + 100_000, "name": dc, "longName": strings.ToUpper(dc[:1]) + dc[1:], "statusId": 2}
}

func slLocationID(dc string) int { return slLocation(dc)["id"].(int) }

func slSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
