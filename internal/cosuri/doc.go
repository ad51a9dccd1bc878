// Package cosuri is the one parser and validator of the
// cos://<region>/<bucket>/<object> URIs that name an image object in IBM
// Cloud Object Storage. storage.URI (the upload) and image.COSURI (the
// import) are thin wrappers of it, so a URI the upload accepts is never
// refused by the import, and the other way round.
//
// The rules are the union of what IBM's image imports take, and no more:
//
//   - Region is a COS location: a regional one ("us-south", "eu-de",
//     "jp-tok"), a cross-region one ("us", "eu", "ap", formerly "us-geo"),
//     or a single-site one ("ams03", "mil01", "sjc04"). IBM adds locations
//     now and then, so the check is on the shape, not a list: lowercase
//     words of letters and digits joined by single hyphens, the first
//     starting with a letter, at most 32 characters.
//   - Bucket follows COS's (and S3's) naming rules: 3 to 63 lowercase
//     letters, digits, dots and hyphens, starting and ending with a letter
//     or digit, no dot next to a dot or hyphen, not shaped like an IP
//     address. A name outside them cannot exist, so no import can find it.
//   - Object is an object key of 1 to 1024 bytes of UTF-8 without control
//     characters, taken literally (no percent-decoding; it may contain
//     slashes). A key ending in "/" is a "folder", not an image file, and
//     is refused.
//
// Sources: the SoftLayer API and the `slcli image import` help
// ("cos://<regionName>/<bucketName>/<objectPath>", softlayer-python and
// the ibmcloud sl plugin); vpcv1.ImageFilePrototype.Href ("the Cloud
// Object Storage location of the image file", e.g.
// cos://us-south/custom-image-vpc-bucket/customImage-0.vhd); the COS
// location constraints in ibm-cos-sdk-go's s3 package (regional "us-south",
// single-site "ams03", "che01", "mil01", "mon01", "par01", "sjc04",
// "sng01") and IBM's COS endpoint list (cross-region "us", "eu", "ap");
// IBM's COS bucket naming rules; S3's 1024-byte key limit.
package cosuri
