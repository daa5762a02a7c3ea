package caddymodule

import (
	"errors"
	"fmt"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// cmdSecrets prints each configured secret's fingerprint and where it is
// configured, never the secret: the access log's zego_secret and the
// spool's items name secrets by the same fingerprint.
func (s streams) cmdSecrets(fl caddycmd.Flags) (int, error) {
	configFile, adapter := fl.String("config"), fl.String("adapter")
	if configFile == "" {
		return 1, errors.New("--config is required: the config whose secrets to fingerprint")
	}
	if err := loadEnvFiles(fl); err != nil {
		return 1, err
	}
	found, err := handlersInConfig(configFile, adapter)
	if err != nil {
		return 1, err
	}
	for i, handler := range found {
		h, err := handler.resolved()
		if err != nil {
			return 1, fmt.Errorf("handler %d (%s): %w", i+1, handler.where, err)
		}
		fmt.Fprintf(s.out, "handler %d: %s\n", i+1, handler.where)
		for n, secret := range h.Secrets {
			fmt.Fprintf(s.out, "  %s  secret #%d\n", secretFingerprint(secretScope(secret)), n+1)
		}
		for _, app := range h.Apps {
			for n, secret := range app.Secrets {
				fmt.Fprintf(s.out, "  %s  app %d secret #%d\n", secretFingerprint(secretScope(secret)), app.AppID, n+1)
			}
		}
	}
	return 0, nil
}

// cmdUpstreamSecret prints a fresh secret for sign_upstream.
func (s streams) cmdUpstreamSecret(caddycmd.Flags) (int, error) {
	_, err := fmt.Fprintln(s.out, newUpstreamSecret())
	return 0, err
}
