package e2e

// The server section of Config: VPC defaults, environment variables and
// the checks that tell a classic server from a VPC instance.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultVPCProfile is the VPC instance profile a qcow2 run orders when
// ServerConfig.Profile is empty: 2 vCPUs, 8 GiB.
const DefaultVPCProfile = "bx2-2x8"

// applyServerEnv sets server fields from the environment, creating
// c.Server when one is set.
func (c *Config) applyServerEnv(lookup func(string) (string, bool)) {
	set := func(name string, f func(s *ServerConfig, v string)) {
		if v, ok := lookup(name); ok && v != "" {
			if c.Server == nil {
				c.Server = &ServerConfig{}
			}
			f(c.Server, v)
		}
	}
	set("E2E_SERVER_NAME", func(s *ServerConfig, v string) { s.Hostname = v })
	set("E2E_VPC_ZONE", func(s *ServerConfig, v string) { s.Zone = v })
	set("E2E_VPC_SUBNET_ID", func(s *ServerConfig, v string) { s.SubnetID = v })
	set("E2E_VPC_ID", func(s *ServerConfig, v string) { s.VPCID = v })
	set("E2E_VPC_PROFILE", func(s *ServerConfig, v string) { s.Profile = v })
	set("E2E_VPC_KEY_IDS", func(s *ServerConfig, v string) {
		s.KeyIDs = nil
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				s.KeyIDs = append(s.KeyIDs, id)
			}
		}
	})
	set("E2E_VPC_RESOURCE_GROUP_ID", func(s *ServerConfig, v string) { s.ResourceGroupID = v })
	set("E2E_VPC_BOOT_KEY_CRN", func(s *ServerConfig, v string) { s.BootVolumeKeyCRN = v })
}

// validateServer reports what is wrong with the server section for the
// run's format.
func (c Config) validateServer() []error {
	s := c.Server
	if s == nil {
		return nil
	}
	var errs []error
	miss := func(what string) { errs = append(errs, fmt.Errorf("%s is required", what)) }
	if s.Hostname == "" {
		miss("server.hostname (E2E_SERVER_NAME)")
	}
	classic := map[string]bool{"server.domain": s.Domain != "", "server.datacenter": s.Datacenter != "",
		"server.cpus": s.CPUs != 0, "server.memoryMb": s.MemoryMB != 0, "server.flavor": s.Flavor != "",
		"server.monthly": s.Monthly, "server.localDisk": s.LocalDisk, "server.networkSpeed": s.NetworkSpeed != 0,
		"server.sshKeyIds": len(s.SSHKeyIDs) > 0, "server.tags": len(s.Tags) > 0}
	vpc := map[string]bool{"server.zone": s.Zone != "", "server.subnetId": s.SubnetID != "", "server.vpcId": s.VPCID != "",
		"server.profile": s.Profile != "", "server.keyIds": len(s.KeyIDs) > 0, "server.resourceGroupId": s.ResourceGroupID != "",
		"server.bootVolumeKeyCrn": s.BootVolumeKeyCRN != ""}
	wrong := func(fields map[string]bool, why string) {
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			if fields[name] {
				errs = append(errs, fmt.Errorf("%s %s", name, why))
			}
		}
	}
	if !c.Image.Format.vpc() {
		if s.Domain == "" {
			miss("server.domain")
		}
		if s.Datacenter == "" {
			miss("server.datacenter")
		}
		wrong(vpc, "is for a VPC instance (image.format qcow2); a classic server has server.datacenter")
		return errs
	}
	wrong(classic, "is for a classic server; a qcow2 (VPC) image runs on a VPC instance placed by server.zone and server.subnetId")
	if s.Zone == "" {
		miss("server.zone (E2E_VPC_ZONE)")
	}
	if s.SubnetID == "" {
		miss("server.subnetId (E2E_VPC_SUBNET_ID)")
	}
	if s.Hostname == "" || s.Zone == "" || s.SubnetID == "" {
		return errs
	}
	region := c.Region
	if region == "" {
		region = "us-south"
	}
	// The image does not exist yet: a stand-in ID lets the rest be checked.
	req := s.vpcRequest("image-to-import")
	if err := req.Validate(region); err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	return errs
}

// redacted is s with its user data replaced by its size: cloud-init user
// data often carries passwords and tokens.
func (s ServerConfig) redacted() ServerConfig {
	if s.UserData != "" {
		s.UserData = fmt.Sprintf("[redacted: %d bytes]", len(s.UserData))
	}
	return s
}

// String shows the server as JSON, its user data as its size only.
func (s ServerConfig) String() string {
	b, _ := json.Marshal(s.redacted())
	return "e2e.ServerConfig" + string(b)
}

// GoString is String: %#v must not print the user data either.
func (s ServerConfig) GoString() string { return s.String() }
