package cosuri_test

import (
	"strings"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// goodURIs are URIs IBM's image imports take, each with its parts.
var goodURIs = []struct {
	in   string
	want cosuri.URI
}{
	{"cos://us-south/images/ubuntu.vhd-0.vhd", cosuri.URI{"us-south", "images", "ubuntu.vhd-0.vhd"}},
	{"cos://eu-de/my.bucket-1/dir/sub/a b.img", cosuri.URI{"eu-de", "my.bucket-1", "dir/sub/a b.img"}},
	{"cos://jp-tok/abc/%41/ünïcode", cosuri.URI{"jp-tok", "abc", "%41/ünïcode"}}, // taken literally
	{"cos://us/abc/x", cosuri.URI{"us", "abc", "x"}},                             // cross-region
	{"cos://eu/images/x.qcow2", cosuri.URI{"eu", "images", "x.qcow2"}},
	{"cos://ap/images/x.qcow2", cosuri.URI{"ap", "images", "x.qcow2"}},
	{"cos://us-geo/images/x.vhd", cosuri.URI{"us-geo", "images", "x.vhd"}}, // the older cross-region name
	{"cos://ams03/images/x.vhd", cosuri.URI{"ams03", "images", "x.vhd"}},   // single-site
	{"cos://sjc04/images/x.vhd", cosuri.URI{"sjc04", "images", "x.vhd"}},
	{"cos://us-south/vpc-images/ubuntu.qcow2", cosuri.URI{"us-south", "vpc-images", "ubuntu.qcow2"}},
	{"cos://us-south/bucket//double", cosuri.URI{"us-south", "bucket", "/double"}},
	{"cos://us-south/bucket/obj?x=1#y", cosuri.URI{"us-south", "bucket", "obj?x=1#y"}},
	{"cos://us-south/0.9-a/" + strings.Repeat("k", 1024), cosuri.URI{"us-south", "0.9-a", strings.Repeat("k", 1024)}},
	{"cos://us-south/" + strings.Repeat("b", 63) + "/o", cosuri.URI{"us-south", strings.Repeat("b", 63), "o"}},
	{"cos://us-south/a--b/o", cosuri.URI{"us-south", "a--b", "o"}},
}

// badURIs are refused, each with its kind and a word of the reason.
var badURIs = []struct {
	in   string
	kind error
	why  string
}{
	{"", cosuri.ErrSyntax, "want the form"},
	{"cos://", cosuri.ErrSyntax, "want the form"},
	{"cos://us-south", cosuri.ErrSyntax, "want the form"},
	{"cos://us-south/bucket", cosuri.ErrSyntax, "want the form"},
	{"s3://us-south/bucket/key", cosuri.ErrSyntax, "want the form"},
	{"COS://us-south/bucket/key", cosuri.ErrSyntax, "want the form"},
	{"https://s3.us-south.cloud-object-storage.appdomain.cloud/bucket/object", cosuri.ErrSyntax, "want the form"},
	{"cos:///bucket/key", cosuri.ErrRegion, "empty region"},
	{"cos://US-SOUTH/bucket/key", cosuri.ErrRegion, "lowercase"},
	{"cos://us_south/bucket/key", cosuri.ErrRegion, "only lowercase letters, digits and hyphens"},
	{"cos://us--south/bucket/key", cosuri.ErrRegion, "empty word"},
	{"cos://-us/bucket/key", cosuri.ErrRegion, "start with a lowercase letter"},
	{"cos://us-/bucket/key", cosuri.ErrRegion, "empty word"},
	{"cos://1us/bucket/key", cosuri.ErrRegion, "start with a lowercase letter"},
	{"cos://s3.us.appdomain.cloud/bucket/key", cosuri.ErrRegion, "only lowercase letters"},
	{"cos://" + strings.Repeat("a", 33) + "/bucket/key", cosuri.ErrRegion, "longer than 32"},
	{"cos://us-south/ab/key", cosuri.ErrBucket, "3 to 63"},
	{"cos://us-south//key", cosuri.ErrBucket, "3 to 63"},
	{"cos://us-south/" + strings.Repeat("a", 64) + "/key", cosuri.ErrBucket, "3 to 63"},
	{"cos://us-south/Bucket/key", cosuri.ErrBucket, "only lowercase"},
	{"cos://us-south/bu_cket/key", cosuri.ErrBucket, "only lowercase"},
	{"cos://us-south/-bucket/key", cosuri.ErrBucket, "start and end"},
	{"cos://us-south/bucket-/key", cosuri.ErrBucket, "start and end"},
	{"cos://us-south/buc..ket/key", cosuri.ErrBucket, "dot next to"},
	{"cos://us-south/buc.-ket/key", cosuri.ErrBucket, "dot next to"},
	{"cos://us-south/buc-.ket/key", cosuri.ErrBucket, "dot next to"},
	{"cos://us-south/192.168.1.1/key", cosuri.ErrBucket, "IP address"},
	{"cos://us-south/bucket/", cosuri.ErrObject, "empty object key"},
	{"cos://us-south/bucket/dir/", cosuri.ErrObject, "folder"},
	{"cos://us-south/bucket//", cosuri.ErrObject, "folder"},
	{"cos://us-south/bucket/" + strings.Repeat("k", 1025), cosuri.ErrObject, "longer than 1024"},
	{"cos://us-south/bucket/a\nb", cosuri.ErrObject, "control character"},
	{"cos://us-south/bucket/a\x7fb", cosuri.ErrObject, "control character"},
	{"cos://us-south/bucket/\xff", cosuri.ErrObject, "UTF-8"},
}
