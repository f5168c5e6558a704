// minio-admin creates a MinIO user whose only rights are a given policy, so that tests can
// see how Arca reports a permission the policy lacks. It is Arca's own test tool, built by
// test/env from this file with madmin-go (the library behind MinIO's admin API).
//
//	minio-admin ENDPOINT ROOT_KEY ROOT_SECRET USER USER_SECRET POLICY_NAME POLICY_JSON_FILE
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
)

func main() {
	if len(os.Args) != 8 {
		fmt.Fprintln(os.Stderr, "usage: minio-admin ENDPOINT ROOT_KEY ROOT_SECRET USER USER_SECRET POLICY_NAME POLICY_JSON_FILE")
		os.Exit(2)
	}
	endpoint, rootKey, rootSecret := os.Args[1], os.Args[2], os.Args[3]
	user, userSecret, policyName, policyFile := os.Args[4], os.Args[5], os.Args[6], os.Args[7]
	if err := run(endpoint, rootKey, rootSecret, user, userSecret, policyName, policyFile); err != nil {
		fmt.Fprintln(os.Stderr, "minio-admin:", err)
		os.Exit(1)
	}
}

func run(endpoint, rootKey, rootSecret, user, userSecret, policyName, policyFile string) error {
	policy, err := os.ReadFile(policyFile)
	if err != nil {
		return fmt.Errorf("reading policy: %w", err)
	}
	adm, err := madmin.New(endpoint, rootKey, rootSecret, false)
	if err != nil {
		return fmt.Errorf("admin client for %s: %w", endpoint, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adm.AddCannedPolicy(ctx, policyName, policy); err != nil {
		return fmt.Errorf("adding policy %s: %w", policyName, err)
	}
	if err := adm.AddUser(ctx, user, userSecret); err != nil {
		return fmt.Errorf("adding user %s: %w", user, err)
	}
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{policyName}, User: user}); err != nil {
		return fmt.Errorf("attaching policy %s to %s: %w", policyName, user, err)
	}
	return nil
}
