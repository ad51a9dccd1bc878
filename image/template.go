package image

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"
)

// Template is an image template group.
type Template struct {
	ID               int
	GlobalIdentifier string // what orders name (blockDeviceTemplateGroup.globalIdentifier)
	Name             string
	Note             string
	Status           Status
	Datacenters      []string // where the image is stored, e.g. ["dal10"]
	CreateDate       time.Time
	// Transaction is the step of the running transaction (import, export,
	// capture) of the template or its children; "" when none runs.
	Transaction string
}

// Status is a template status, e.g. {KeyName: "ACTIVE", Name: "Active"}.
type Status struct {
	KeyName     string
	Name        string
	Description string
}

// The status key names an import goes through.
const (
	StatusActive  = "ACTIVE"
	StatusPending = "CREATE_PENDING"
	StatusError   = "ERROR"
)

// Active reports whether the template can be ordered from: active, with no
// transaction running.
func (t *Template) Active() bool { return t.Status.KeyName == StatusActive && t.Transaction == "" }

// Failed reports whether the template ended in an error status.
func (t *Template) Failed() bool {
	k := strings.ToUpper(t.Status.KeyName)
	return strings.Contains(k, "ERROR") || strings.Contains(k, "FAIL")
}

// templateMask asks for every field Template carries.
const templateMask = "mask[id,name,note,globalIdentifier,createDate,status,datacenters," +
	"transaction[transactionStatus],children[id,transactionId,transaction[transactionStatus]]]"

func fromDatatype(g *datatypes.Virtual_Guest_Block_Device_Template_Group) *Template {
	t := &Template{
		ID:               deref(g.Id),
		GlobalIdentifier: deref(g.GlobalIdentifier),
		Name:             deref(g.Name),
		Note:             deref(g.Note),
	}
	if g.CreateDate != nil {
		t.CreateDate = g.CreateDate.Time
	}
	if g.Status != nil {
		t.Status = Status{KeyName: deref(g.Status.KeyName), Name: deref(g.Status.Name), Description: deref(g.Status.Description)}
	}
	for _, d := range g.Datacenters {
		t.Datacenters = append(t.Datacenters, deref(d.Name))
	}
	t.Transaction = transactionStep(g.Transaction)
	for _, ch := range g.Children {
		if s := transactionStep(ch.Transaction); s != "" && t.Transaction == "" {
			t.Transaction = s
		} else if ch.TransactionId != nil && t.Transaction == "" {
			t.Transaction = "pending"
		}
	}
	return t
}

func transactionStep(tx *datatypes.Provisioning_Version1_Transaction) string {
	if tx == nil || tx.Id == nil {
		return ""
	}
	if tx.TransactionStatus != nil && tx.TransactionStatus.Name != nil {
		return *tx.TransactionStatus.Name
	}
	return "pending"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Get returns a template by ID.
func (c *Client) Get(ctx context.Context, id int) (*Template, error) {
	var g datatypes.Virtual_Guest_Block_Device_Template_Group
	err := c.s.Call(ctx, templateService, "getObject", true, func(s *session.Session) error {
		var err error
		g, err = services.GetVirtualGuestBlockDeviceTemplateGroupService(s).Id(id).Mask(templateMask).GetObject()
		return err
	})
	if err != nil {
		return nil, err
	}
	if g.Id == nil {
		return nil, fmt.Errorf("%w: getObject of template %d answered without an id", ErrUnexpectedResponse, id)
	}
	return fromDatatype(&g), nil
}

// List returns the account's private templates, or those named name when
// name is not empty, oldest first.
func (c *Client) List(ctx context.Context, name string) ([]Template, error) {
	var groups []datatypes.Virtual_Guest_Block_Device_Template_Group
	err := c.s.Call(ctx, "SoftLayer_Account", "getBlockDeviceTemplateGroups", true, func(s *session.Session) error {
		svc := services.GetAccountService(s).Mask(templateMask)
		if name != "" {
			f, _ := json.Marshal(map[string]any{"blockDeviceTemplateGroups": map[string]any{"name": map[string]any{"operation": name}}})
			svc = svc.Filter(string(f))
		}
		var err error
		groups, err = svc.GetBlockDeviceTemplateGroups()
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Template, 0, len(groups))
	for i := range groups {
		t := fromDatatype(&groups[i])
		if name == "" || t.Name == name { // the filter is a request, not a guarantee
			out = append(out, *t)
		}
	}
	return out, nil
}

// Delete deletes a template. Deleting a template that does not exist
// returns an error wrapping ErrNotFound, unless an earlier attempt of this
// call failed temporarily (it may have deleted it).
func (c *Client) Delete(ctx context.Context, id int) error {
	return c.s.Delete(ctx, templateService, "deleteObject", func(s *session.Session) error {
		_, err := services.GetVirtualGuestBlockDeviceTemplateGroupService(s).Id(id).DeleteObject()
		return err
	})
}

// ExportRequest says where copyToIcos writes a template's image.
type ExportRequest struct {
	// URI is the destination, cos://<region>/<bucket>/<object>.
	URI string
	// IBMAPIKey is the API key IBM uses to write to COS.
	IBMAPIKey string
}

// Export starts copying an active template's image to COS; the template
// shows a transaction until the copy ends (Wait returns then).
func (c *Client) Export(ctx context.Context, id int, req ExportRequest) error {
	if _, err := ParseCOSURI(req.URI); err != nil {
		return err
	}
	if req.IBMAPIKey == "" {
		return invalid("IBMAPIKey", "is required to write to Cloud Object Storage")
	}
	var ok bool
	err := c.s.Call(ctx, templateService, "copyToIcos", false, func(s *session.Session) error {
		var err error
		ok, err = services.GetVirtualGuestBlockDeviceTemplateGroupService(s).Id(id).CopyToIcos(
			&datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{Uri: sl.String(req.URI), IbmApiKey: sl.String(req.IBMAPIKey)})
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: copyToIcos of template %d answered false", ErrUnexpectedResponse, id)
	}
	return nil
}

// Capture creates an image template from a running classic virtual server
// (createArchiveTransaction) and returns it; Wait for it before ordering.
func (c *Client) Capture(ctx context.Context, guestID int, name, note string) (*Template, error) {
	if strings.TrimSpace(name) == "" {
		return nil, invalid("Name", "is required")
	}
	var tx datatypes.Provisioning_Version1_Transaction
	err := c.s.Call(ctx, "SoftLayer_Virtual_Guest", "createArchiveTransaction", false, func(s *session.Session) error {
		var err error
		tx, err = services.GetVirtualGuestService(s).Id(guestID).CreateArchiveTransaction(sl.String(name), nil, sl.String(note))
		return err
	})
	if err != nil {
		return nil, err
	}
	if tx.Id == nil {
		return nil, fmt.Errorf("%w: createArchiveTransaction answered without a transaction", ErrUnexpectedResponse)
	}
	list, err := c.List(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("image: captured guest %d, but listing templates named %q failed: %w", guestID, name, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no template named %q after capturing guest %d", ErrUnexpectedResponse, name, guestID)
	}
	t := list[len(list)-1] // the newest
	return &t, nil
}
