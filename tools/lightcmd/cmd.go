package lightcmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// DefaultGenesis is the genesis file of the local testnet that `make run`
// starts (tools/testnet in out/testnet).
const DefaultGenesis = "out/testnet/genesis.json"

// options are the flags every light subcommand shares.
type options struct {
	node    string
	genesis string
}

// Command returns `thinkey light`.
func Command() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "light",
		Short: "Verify a block header, an account or a relay from the root chain alone",
		Long: "Fetches a light proof from a node and verifies it against the root committee keys\n" +
			"of the genesis file: nothing the node says is trusted but what the proof shows.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.node, "node", txcmd.DefaultAPI, "API URL of the node to ask for the proof")
	f.StringVar(&o.genesis, "genesis", DefaultGenesis, "genesis file naming the root committee")
	cmd.AddCommand(headerCommand(o), accountCommand(o), relayCommand(o))
	return cmd
}

// setup reads the genesis and makes the client; done after the arguments
// are checked, before anything is fetched.
func (o *options) setup() (*verifier, error) {
	n, err := LoadGenesis(o.genesis)
	if err != nil {
		return nil, fmt.Errorf("--genesis: %w", err)
	}
	c, err := txcmd.NewClient(o.node)
	if err != nil {
		return nil, fmt.Errorf("--node: %w", err)
	}
	return &verifier{c: c, v: light.Verifier{RootKeys: n.RootKeys, Topology: n.Topology}}, nil
}

// verifier fetches proofs from one node and checks them.
type verifier struct {
	c *txcmd.Client
	v light.Verifier
}

func headerCommand(o *options) *cobra.Command {
	var chain uint32
	var height uint64
	cmd := &cobra.Command{
		Use:   "header --chain C --height H [--node URL] [--genesis FILE]",
		Short: "Verify the header of block H of chain C",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := o.setup()
			if err != nil {
				return err
			}
			return v.header(cmd.Context(), cmd.OutOrStdout(), types.ChainID(chain), types.Height(height))
		},
	}
	cmd.Flags().Uint32Var(&chain, "chain", 0, "chain ID")
	cmd.Flags().Uint64Var(&height, "height", 0, "block height")
	_ = cmd.MarkFlagRequired("chain")
	_ = cmd.MarkFlagRequired("height")
	return cmd
}

func accountCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "account ADDRESS [--node URL] [--genesis FILE]",
		Short: "Verify an account's balance and nonce as of the latest block the root chain recorded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := txcmd.ParseAddress(args[0])
			if err != nil {
				return fmt.Errorf("address: %w", err)
			}
			v, err := o.setup()
			if err != nil {
				return err
			}
			return v.account(cmd.Context(), cmd.OutOrStdout(), addr)
		},
	}
}

func relayCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "relay ID [--node URL] [--genesis FILE]",
		Short: "Verify that an outer-relay message was produced by a block the root chain recorded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := txcmd.ParseID(args[0])
			if err != nil {
				return fmt.Errorf("relay id: %w", err)
			}
			v, err := o.setup()
			if err != nil {
				return err
			}
			return v.relay(cmd.Context(), cmd.OutOrStdout(), id)
		},
	}
}

func (v *verifier) header(ctx context.Context, out io.Writer, chain types.ChainID, height types.Height) error {
	what := fmt.Sprintf("block %d of chain %d", height, chain)
	raw, err := fetchProof(ctx, v.c, fmt.Sprintf("/v1/light/chains/%d/blocks/%d", chain, height))
	if err != nil {
		return notFound(err, what)
	}
	p, err := light.DecodeHeaderProof(raw)
	if err != nil {
		return fmt.Errorf("%s: the node's proof is malformed: %w", what, err)
	}
	if err := v.v.VerifyHeader(&p); err != nil {
		return fmt.Errorf("%s: verification failed: %w", what, err)
	}
	if p.Header.ChainID != chain || p.Header.Height != height {
		return fmt.Errorf("%s: the node proved block %d of chain %d instead", what, p.Header.Height, p.Header.ChainID)
	}
	h := &p.Header
	fmt.Fprintf(out, "verified block %d of chain %d\n", h.Height, h.ChainID)
	field(out, "hash", h.Hash().String())
	field(out, "empty", yesNo(h.Empty))
	field(out, "state root", h.StateRoot.String())
	field(out, "relay root", h.OuterRelayRoot.String())
	writeAnchor(out, &p, len(v.v.RootKeys))
	return nil
}

func (v *verifier) account(ctx context.Context, out io.Writer, addr types.Address) error {
	what := "account " + addr.String()
	raw, err := fetchProof(ctx, v.c, "/v1/light/accounts/"+addr.String())
	if err != nil {
		return notFound(err, what)
	}
	p, err := light.DecodeAccountProof(raw)
	if err != nil {
		return fmt.Errorf("%s: the node's proof is malformed: %w", what, err)
	}
	a, err := v.v.VerifyAccount(&p)
	if err != nil {
		return fmt.Errorf("%s: verification failed: %w", what, err)
	}
	if a.Address != addr {
		return fmt.Errorf("%s: the node proved account %s instead", what, a.Address)
	}
	h := &p.Block.Header
	fmt.Fprintf(out, "verified account %s on chain %d\n", a.Address, h.ChainID)
	field(out, "balance", fmt.Sprint(a.Balance))
	field(out, "nonce", fmt.Sprint(a.Nonce))
	field(out, "code", codeSummary(&a))
	field(out, "storage", fmt.Sprintf("%d entries", a.Storage.Len()))
	field(out, "as of block", fmt.Sprintf("%d of chain %d (hash %s)", h.Height, h.ChainID, h.Hash()))
	writeAnchor(out, &p.Block, len(v.v.RootKeys))
	return nil
}

func (v *verifier) relay(ctx context.Context, out io.Writer, id types.Hash) error {
	what := "relay " + id.String()
	raw, err := fetchProof(ctx, v.c, "/v1/light/relays/"+id.String())
	if err != nil {
		return notFound(err, what)
	}
	p, err := light.DecodeRelayProof(raw)
	if err != nil {
		return fmt.Errorf("%s: the node's proof is malformed: %w", what, err)
	}
	if err := v.v.VerifyRelay(&p); err != nil {
		return fmt.Errorf("%s: verification failed: %w", what, err)
	}
	if got := p.Message.ID(); got != id {
		return fmt.Errorf("%s: the node proved relay %s instead", what, got)
	}
	m, h := &p.Message, &p.Block.Header
	fmt.Fprintf(out, "verified relay %s produced by block %d of chain %d\n", id, h.Height, h.ChainID)
	field(out, "from", fmt.Sprintf("%s (chain %d)", m.From, m.SourceChain))
	field(out, "to", m.To.String())
	field(out, "value", fmt.Sprint(m.Value))
	if len(m.Method) > 0 {
		field(out, "method", string(m.Method))
	}
	field(out, "cause", m.Cause.String())
	field(out, "block hash", h.Hash().String())
	writeAnchor(out, &p.Block, len(v.v.RootKeys))
	return nil
}

// writeAnchor prints how a verified header proof reaches the root chain.
func writeAnchor(out io.Writer, p *light.HeaderProof, committee int) {
	root := p.Root()
	if len(p.Lifts) == 0 {
		field(out, "recorded at", fmt.Sprintf("root height %d (a root block itself)", root.Height))
	} else {
		var via []string
		for _, l := range p.Lifts[:len(p.Lifts)-1] {
			via = append(via, fmt.Sprintf("chain %d height %d", l.Recorder.ChainID, l.Recorder.Height))
		}
		at := fmt.Sprintf("root height %d (root block %s)", root.Height, root.Hash())
		if len(via) > 0 {
			at += ", via " + strings.Join(via, ", ")
		}
		field(out, "recorded at", at)
	}
	c := &p.RootCertificate
	field(out, "certified", fmt.Sprintf("by %d of %d root committee members (%v certificate, round %d)", c.SignerCount(), committee, c.Kind, c.Round))
}

func field(out io.Writer, name, value string) {
	fmt.Fprintf(out, "  %-12s %s\n", name, value)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func codeSummary(a *actor.Account) string {
	if len(a.Code) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d bytes, sha256 %s", len(a.Code), hash.Sum256(a.Code))
}
