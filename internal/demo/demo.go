// Package demo holds what the quickstart, the examples and `e2eimage demo`
// share: a pipeline Config pointing at an emulated cloud, and a small
// bootable-looking disk image to encrypt.
package demo

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
)

// Config is a complete pipeline configuration for the emulated cloud:
// every endpoint and credential from cloud, a bucket, an image and a server.
// The LUKS key-slot time is short because a demo needs no brute-force
// resistance; real runs keep cryptsetup's 2 s default.
func Config(cloud *e2etest.Cloud) e2e.Config {
	return e2e.Config{
		Region: cloud.Region,
		APIKey: cloud.APIKey,
		Endpoints: e2e.Endpoints{
			IAM:       cloud.IAMURL,
			KMS:       cloud.KMSURL,
			COS:       cloud.COSURL,
			SoftLayer: cloud.SoftLayerURL,
			Logs:      cloud.LogsURL,
			VPC:       cloud.VPCURL,
		},
		KMS:   e2e.KMSConfig{InstanceID: cloud.KPInstanceID, RootKeyName: "quickstart-root-key"},
		COS:   e2e.COSConfig{InstanceID: cloud.COSInstanceID, Bucket: "quickstart-images", PathStyle: true},
		Image: e2e.ImageConfig{Name: "quickstart-ubuntu", OS: "UBUNTU_22_64", CloudInit: true},
		Server: &e2e.ServerConfig{
			Hostname: "quickstart-vsi", Domain: "example.com", Datacenter: "dal10",
			CPUs: 2, MemoryMB: 4096, Tags: []string{"e2e-quickstart"},
		},
		Encrypt:      e2e.EncryptConfig{IterTime: e2e.Duration(50 * time.Millisecond)},
		Audit:        true,
		PollInterval: e2e.Duration(50 * time.Millisecond),
	}
}

// ConfigFor is Config for one of the three encrypted formats. The VPC
// format (qcow2) imports a VPC custom image and orders a VPC instance in
// the emulated VPC's first zone instead of a classic template and server.
func ConfigFor(cloud *e2etest.Cloud, f e2e.Format) e2e.Config {
	cfg := Config(cloud)
	cfg.Image.Format = f
	if f == e2e.QCOW2LUKS {
		zone := cloud.Region + "-1"
		cfg.Image.OS = "ubuntu-24-04-amd64" // a VPC operating system name
		cfg.Server = &e2e.ServerConfig{Hostname: "quickstart-vsi", Zone: zone, SubnetID: cloud.VPCNetwork().Subnets[zone]}
	}
	return cfg
}

// Image returns a small disk image that looks bootable: an MBR with one
// Linux partition holding an ext-like superblock and file data, with the
// zero runs a real disk has. size is rounded up to whole MiB.
func Image(size int64, seed uint64) []byte {
	const mib = 1 << 20
	size = (size + mib - 1) / mib * mib
	if size < 2*mib {
		size = 2 * mib
	}
	img := make([]byte, size)
	// MBR: a boot-code stub, one partition from 1 MiB to the end, signature.
	copy(img, []byte{0xeb, 0x63, 0x90}) // jmp over the BIOS parameter area, as GRUB's stage 1
	p := img[446:462]
	p[0] = 0x80 // bootable
	p[4] = 0x83 // Linux
	binary.LittleEndian.PutUint32(p[8:], mib/512)
	binary.LittleEndian.PutUint32(p[12:], uint32((size-mib)/512))
	img[510], img[511] = 0x55, 0xaa
	// ext4 superblock magic at partition start + 1024 + 56.
	binary.LittleEndian.PutUint16(img[mib+1024+56:], 0xef53)
	copy(img[mib+1024+120:], "cloudimg-rootfs")
	// File data in every other 64 KiB chunk; the rest stays zero, as free space.
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for off := int64(mib + 64<<10); off+64<<10 <= size; off += 128 << 10 {
		chunk := img[off : off+64<<10]
		for i := 0; i+8 <= len(chunk); i += 8 {
			binary.LittleEndian.PutUint64(chunk[i:], rng.Uint64())
		}
	}
	return img
}
