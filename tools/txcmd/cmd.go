package txcmd

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// DefaultAPI is the API address of a node with the default configuration.
const DefaultAPI = "http://127.0.0.1:7680"

// Command returns `thinkey tx`.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Send and query account messages through a node's API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(sendCommand(), getCommand(), accountCommand())
	return cmd
}

func sendCommand() *cobra.Command {
	var keyFile, to, amount, apiURL, toAPI string
	var wait time.Duration
	var delivery bool
	cmd := &cobra.Command{
		Use:   "send --from-key FILE --to ADDR --amount N [--api URL] [--wait D [--wait-delivery] [--to-api URL]]",
		Short: "Sign and send a transfer",
		Long: `Sign a transfer and submit it to --api, a node of the sender's chain.

With --wait the command waits until the transfer is confirmed: in a block
of the sender's chain that the chain's recorder (the root chain, or the
coordinator of a sub-chain) recorded. From then on it is
irrevocable: when the recipient is on another chain, the value travels as a
relay message that the recipient's chain is certain to execute, exactly
once. --wait-delivery also waits until it has (asking --to-api, a node of
the recipient's chain; by default --api).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyFile == "" {
				return errors.New("--from-key is required")
			}
			if to == "" {
				return errors.New("--to is required")
			}
			recipient, err := ParseAddress(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			bill, err := ParseAmount(amount)
			if err != nil {
				return fmt.Errorf("--amount: %w", err)
			}
			if delivery && wait <= 0 {
				return errors.New("--wait-delivery needs --wait D")
			}
			acct, err := LoadAccount(keyFile)
			if err != nil {
				return err
			}
			c, err := NewClient(apiURL)
			if err != nil {
				return fmt.Errorf("--api: %w", err)
			}
			dest := c
			if toAPI != "" {
				if dest, err = NewClient(toAPI); err != nil {
					return fmt.Errorf("--to-api: %w", err)
				}
			}
			s := sendRequest{from: acct, to: recipient, amount: bill, wait: wait, delivery: delivery}
			return send(cmd.Context(), cmd.OutOrStdout(), c, dest, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "from-key", "", "sender's account key file")
	f.StringVar(&to, "to", "", "recipient address (40 hex digits)")
	f.StringVar(&amount, "amount", "", "amount to transfer (a positive integer)")
	f.StringVar(&apiURL, "api", DefaultAPI, "API URL of a node of the sender's chain")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the transfer to be confirmed (0: do not wait)")
	f.BoolVar(&delivery, "wait-delivery", false, "with --wait, also wait until the recipient's chain has executed a transfer to another chain")
	f.StringVar(&toAPI, "to-api", "", "API URL of a node of the recipient's chain, for --wait-delivery (default: --api)")
	return cmd
}

type sendRequest struct {
	from     Account
	to       types.Address
	amount   uint64
	wait     time.Duration
	delivery bool
}

// chainOf returns the chain that holds addr and whether the node behind c
// runs it.
func chainOf(ctx context.Context, c *Client, addr types.Address) (chain uint32, served bool, err error) {
	chains, err := c.Chains(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("read the chains of %s: %w", c.Base, err)
	}
	chain, ok := OwnerOf(chains, addr)
	if !ok {
		return 0, false, fmt.Errorf("no transaction chain of %s holds %s", c.Base, addr)
	}
	return chain, slices.Contains(Served(chains), chain), nil
}

func send(ctx context.Context, out io.Writer, c, dest *Client, s sendRequest) error {
	from, to := s.from, s.to
	srcChain, served, err := chainOf(ctx, c, from.Address)
	if err != nil {
		return err
	}
	if !served {
		return fmt.Errorf("sender %s is on chain %d, which the node at %s does not run: send through a node of chain %d", from.Address, srcChain, c.Base, srcChain)
	}
	destChain, _, err := chainOf(ctx, c, to)
	if err != nil {
		return err
	}
	state, err := c.Account(ctx, from.Address)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("sender %s has no account on chain %d (fund it first)", from.Address, srcChain)
	}
	if err != nil {
		return fmt.Errorf("read sender nonce: %w", err)
	}
	if state.Balance < s.amount {
		fmt.Fprintf(out, "note: balance %d is below the amount %d; the transfer will have no effect\n", state.Balance, s.amount)
	}
	msg := actor.NewTransfer(from.Key, state.Nonce, to, s.amount)
	res, err := c.Submit(ctx, &msg)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !res.Accepted {
		if res.Code == CodeWrongChain {
			return fmt.Errorf("transfer %s refused: the node at %s does not run chain %d of sender %s: send through a node of chain %d (%s)",
				res.ID, c.Base, res.Chain, from.Address, res.Chain, res.Error)
		}
		return fmt.Errorf("transfer %s refused: %s (%s)", res.ID, res.Error, res.Code)
	}
	fmt.Fprintf(out, "submitted %s: %d from %s (chain %d) to %s (chain %d), nonce %d\n", res.ID, s.amount, from.Address, srcChain, to, destChain, state.Nonce)
	if s.wait <= 0 {
		fmt.Fprintf(out, "follow it with: thinkey tx get %s --api %s\n", res.ID, c.Base)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	id := msg.ID()
	st, err := waitMessage(ctx, c, id, "confirmed")
	if err != nil {
		return fmt.Errorf("transfer %s: %w (waited %v)", res.ID, err, s.wait)
	}
	fmt.Fprintf(out, "confirmed at height %d on chain %d\n", deref(st.Height), srcChain)
	if destChain == srcChain {
		return nil
	}
	fmt.Fprintf(out, "irrevocable: the value is certain to reach %s on chain %d as a relay message\n", to, destChain)
	if !s.delivery {
		return nil
	}
	relayID, err := findRelay(ctx, c, srcChain, deref(st.Height), id, to)
	if err != nil {
		return err
	}
	if _, served, err := chainOf(ctx, dest, to); err != nil {
		return err
	} else if !served {
		return fmt.Errorf("the node at %s does not run chain %d: pass --to-api with a node of chain %d", dest.Base, destChain, destChain)
	}
	dst, err := waitMessage(ctx, dest, relayID, "included", "confirmed")
	if err != nil {
		return fmt.Errorf("relay %s to chain %d: %w (waited %v)", relayID, destChain, err, s.wait)
	}
	fmt.Fprintf(out, "delivered: relay %s executed at height %d on chain %d\n", relayID, deref(dst.Height), destChain)
	return nil
}

// waitMessage polls a message until it reaches one of states; a rejected
// message is an error.
func waitMessage(ctx context.Context, c *Client, id types.Hash, states ...string) (MessageStatus, error) {
	for {
		st, err := c.Message(ctx, id)
		if err == nil && slices.Contains(states, st.State) {
			return st, nil
		}
		if err == nil && st.State == "rejected" {
			return st, fmt.Errorf("rejected: %s", st.Reason)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("not %s in time", strings.Join(states, " or "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// findRelay returns the ID of the relay that the transfer cause produced
// for to in block height of chain.
func findRelay(ctx context.Context, c *Client, chain uint32, height uint64, cause types.Hash, to types.Address) (types.Hash, error) {
	b, err := c.Block(ctx, chain, height)
	if err != nil {
		return types.Hash{}, fmt.Errorf("read block %d of chain %d: %w", height, chain, err)
	}
	for _, r := range b.OuterRelay {
		if r.Cause == cause.String() && r.To == to.String() {
			return ParseID(r.ID)
		}
	}
	return types.Hash{}, fmt.Errorf("block %d of chain %d holds no relay of transfer %s to %s (the transfer had no effect?)", height, chain, cause, to)
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func getCommand() *cobra.Command {
	var apiURL string
	cmd := &cobra.Command{
		Use:   "get ID [--api URL]",
		Short: "Show the status of a message",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ParseID(args[0])
			if err != nil {
				return fmt.Errorf("message id: %w", err)
			}
			c, err := NewClient(apiURL)
			if err != nil {
				return fmt.Errorf("--api: %w", err)
			}
			st, err := c.Message(cmd.Context(), id)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("message %s: unknown to the node at %s (a node knows the messages of its own transaction chain)", id, apiURL)
			}
			if errors.Is(err, ErrWrongChain) {
				return fmt.Errorf("message %s: the node at %s runs no transaction chain: ask a node of the sender's chain", id, apiURL)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&apiURL, "api", DefaultAPI, "node API URL")
	return cmd
}

func accountCommand() *cobra.Command {
	var apiURL string
	cmd := &cobra.Command{
		Use:   "account ADDR [--api URL]",
		Short: "Show an account's balance and nonce",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := ParseAddress(args[0])
			if err != nil {
				return fmt.Errorf("address: %w", err)
			}
			c, err := NewClient(apiURL)
			if err != nil {
				return fmt.Errorf("--api: %w", err)
			}
			a, err := c.Account(cmd.Context(), addr)
			var apiErr *APIError
			if errors.Is(err, ErrWrongChain) && errors.As(err, &apiErr) && apiErr.Chain != nil {
				chain := *apiErr.Chain
				return fmt.Errorf("account %s is on chain %d, which the node at %s does not run: ask a node of chain %d (%s)",
					addr, chain, c.Base, chain, apiErr.Message)
			}
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("account %s does not exist", addr)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), a)
		},
	}
	cmd.Flags().StringVar(&apiURL, "api", DefaultAPI, "node API URL")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// ParseAddress reads an account address: 40 hex digits, with an optional 0x.
func ParseAddress(s string) (types.Address, error) {
	var a types.Address
	if err := parseFixedHex(s, a[:]); err != nil {
		return a, err
	}
	return a, nil
}

// ParseID reads a message ID: 64 hex digits, with an optional 0x.
func ParseID(s string) (types.Hash, error) {
	var h types.Hash
	if err := parseFixedHex(s, h[:]); err != nil {
		return h, err
	}
	return h, nil
}

func parseFixedHex(s string, dst []byte) error {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(t) != 2*len(dst) {
		return fmt.Errorf("%q: want %d hex digits", s, 2*len(dst))
	}
	if _, err := hex.Decode(dst, []byte(t)); err != nil {
		return fmt.Errorf("%q: not hex", s)
	}
	return nil
}

// ParseAmount reads a positive integer amount below 2^64.
func ParseAmount(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("required")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: want a positive integer below 2^64", s)
	}
	if v == 0 {
		return 0, fmt.Errorf("%q: must be positive", s)
	}
	return v, nil
}
