package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/e2etest"
)

// Stream the Key Protect events of the last hour from an (emulated) Cloud
// Logs instance.
func ExampleClient_Events() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	now := time.Now()
	for i, action := range []string{"kms.secrets.create", "kms.secrets.wrap", "iam-am.policy.create", "kms.secrets.unwrap"} {
		cloud.RecordEvent(e2etest.Event{EventTime: now.Add(time.Duration(i-10) * time.Minute), Action: action,
			Target: e2etest.EventTarget{ID: "crn:v1:bluemix:public:kms:us-south:a/1:2:key:3", Name: "root"}})
	}

	client, err := audit.NewClient(audit.Config{
		Endpoint:      cloud.LogsURL,
		Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL},
	})
	if err != nil {
		log.Fatal(err)
	}
	q := audit.Query{Start: now.Add(-time.Hour), End: now, Actions: []string{"kms.secrets."}}
	for ev, err := range client.Events(context.Background(), q) {
		if errors.Is(err, audit.ErrTruncated) {
			fmt.Println("(more events than the limit)")
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Action, ev.Target.Name, ev.Target.ID, ev.Outcome)
	}
	// Output:
	// kms.secrets.create root 3 success
	// kms.secrets.wrap root 3 success
	// kms.secrets.unwrap root 3 success
}

// Render a query for use elsewhere (the Cloud Logs console, the CLI).
func ExampleQuery_DataPrime() {
	q := audit.Query{
		Start:   time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		End:     time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC),
		Actions: []string{"kms.secrets.wrap", "kms.secrets.unwrap"},
		Outcome: "failure",
	}
	dp, _ := q.DataPrime()
	lucene, _ := q.Lucene()
	fmt.Println(dp)
	fmt.Println(lucene)
	// Output:
	// source logs | filter $l.applicationname == 'ibm-audit-event' && ($d.action == 'kms.secrets.wrap' || $d.action == 'kms.secrets.unwrap') && $d.outcome == 'failure'
	// coralogix.metadata.applicationName:"ibm-audit-event" AND (action:"kms.secrets.wrap" OR action:"kms.secrets.unwrap") AND outcome:"failure"
}

// Read the trail of one run: the root key, the template and the server.
func ExampleClient_Trail() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	start := time.Now().Add(-time.Minute)
	key := "crn:v1:bluemix:public:kms:us-south:a/1:2:key:3"
	cloud.RecordEvent(e2etest.Event{Action: "kms.secrets.wrap", Target: e2etest.EventTarget{ID: key, Name: "root"}})
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi-image-template.create",
		Target: e2etest.EventTarget{ID: "crn:v1:bluemix:public:classic-infrastructure:us-south:a/1::image-template:77", Name: "img"}})
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi.provision", Target: e2etest.EventTarget{Name: "web1"}})

	client, err := audit.NewClient(audit.Config{
		Endpoint:      cloud.LogsURL,
		Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL},
	})
	if err != nil {
		log.Fatal(err)
	}
	trail, err := client.Trail(context.Background(), audit.Run{RootKeyCRN: key, TemplateID: "77", Hostname: "web1", Start: start})
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range trail {
		fmt.Println(ev.Action, ev.Target.Name)
	}
	// Output:
	// kms.secrets.wrap root
	// audit-log.vsi-image-template.create img
	// audit-log.vsi.provision web1
}
