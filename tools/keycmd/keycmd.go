package keycmd

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/keys"
)

// ConfigFile is the name of the configuration init writes.
const ConfigFile = "config.toml"

// Command returns `thinkey init`.
func Command() *cobra.Command {
	var dir, profile string
	cmd := &cobra.Command{
		Use:   "init --dir DIR [--profile NAME]",
		Short: "Create a node key and a configuration",
		Long: `Create DIR with a new node key (node.key, mode 0600: the BLS consensus key
and the network identity) and a configuration (config.toml) holding every
option of the profile with its default. Existing files are never overwritten.
The command prints the key's public half as a genesis committee entry.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			member, err := Init(dir, profile)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote %s and %s\n", filepath.Join(dir, "node.key"), filepath.Join(dir, ConfigFile))
			fmt.Fprintf(out, "genesis committee entry (set the address to this node's network.listen):\n")
			enc, _ := json.MarshalIndent(member, "", "  ")
			fmt.Fprintf(out, "%s\n", enc)
			fmt.Fprintf(out, "then put the network's genesis.json in %s and run: thinkey node --config %s\n", dir, filepath.Join(dir, ConfigFile))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "node directory to create")
	cmd.Flags().StringVar(&profile, "profile", "default", "configuration profile: default or vps-1c2g")
	return cmd
}

// Member is a genesis committee entry, as node/genesis writes it.
type Member struct {
	BLSPublicKey         string `json:"bls_public_key"`
	BLSProofOfPossession string `json:"bls_proof_of_possession"`
	PeerID               string `json:"peer_id"`
	Address              string `json:"address"`
}

// Init writes a new node key and the profile's configuration into dir and
// returns the key's committee entry. It refuses to overwrite either file.
func Init(dir, profile string) (Member, error) {
	cfg, err := config.Defaults(profile)
	if err != nil {
		return Member{}, err
	}
	// The data directory is the node directory itself: relative paths of
	// a configuration are resolved against the file's directory.
	cfg.Node.DataDir = "."
	keyPath := filepath.Join(dir, cfg.Node.KeyFile)
	configPath := filepath.Join(dir, ConfigFile)
	for _, p := range []string{keyPath, configPath} {
		if _, err := os.Stat(p); err == nil {
			return Member{}, fmt.Errorf("%s: %w (init never overwrites)", p, fs.ErrExist)
		}
	}
	tmpl, err := config.Template(cfg)
	if err != nil {
		return Member{}, err
	}
	k, err := keys.Generate(rand.Reader)
	if err != nil {
		return Member{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Member{}, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := driver.WriteKeyFile(keyPath, k); err != nil {
		return Member{}, err
	}
	if err := driver.WriteFile(configPath, tmpl, 0o644); err != nil {
		return Member{}, err
	}
	pub := k.Public()
	return Member{
		BLSPublicKey:         hex.EncodeToString(pub.BLSPublicKey.Bytes()),
		BLSProofOfPossession: hex.EncodeToString(pub.ProofOfPossession.Bytes()),
		PeerID:               pub.PeerID.String(),
		Address:              cfg.Network.Listen,
	}, nil
}
