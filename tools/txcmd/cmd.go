package txcmd

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	var keyFile, to, amount, apiURL string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "send --from-key FILE --to ADDR --amount N [--api URL] [--wait D]",
		Short: "Sign and send a transfer",
		Args:  cobra.NoArgs,
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
			acct, err := LoadAccount(keyFile)
			if err != nil {
				return err
			}
			c, err := NewClient(apiURL)
			if err != nil {
				return fmt.Errorf("--api: %w", err)
			}
			return send(cmd.Context(), cmd.OutOrStdout(), c, acct, recipient, bill, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "from-key", "", "sender's account key file")
	f.StringVar(&to, "to", "", "recipient address (40 hex digits)")
	f.StringVar(&amount, "amount", "", "amount to transfer (a positive integer)")
	f.StringVar(&apiURL, "api", DefaultAPI, "node API URL")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the transfer to be confirmed (0: do not wait)")
	return cmd
}

func send(ctx context.Context, out io.Writer, c *Client, from Account, to types.Address, bill uint64, wait time.Duration) error {
	state, err := c.Account(ctx, from.Address)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("sender %s has no account on the chain (fund it first)", from.Address)
	}
	if err != nil {
		return fmt.Errorf("read sender nonce: %w", err)
	}
	if state.Balance < bill {
		fmt.Fprintf(out, "note: balance %d is below the amount %d; the transfer will have no effect\n", state.Balance, bill)
	}
	msg := actor.NewTransfer(from.Key, state.Nonce, to, bill)
	res, err := c.Submit(ctx, &msg)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !res.Accepted {
		return fmt.Errorf("transfer %s refused: %s (%s)", res.ID, res.Error, res.Code)
	}
	fmt.Fprintf(out, "submitted %s: %d from %s to %s (nonce %d)\n", res.ID, bill, from.Address, to, state.Nonce)
	if wait <= 0 {
		fmt.Fprintf(out, "follow it with: thinkey tx get %s --api %s\n", res.ID, c.Base)
		return nil
	}
	id := msg.ID()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		st, err := c.Message(ctx, id)
		if err == nil && (st.State == "confirmed" || st.State == "included") {
			fmt.Fprintf(out, "%s at height %d\n", st.State, deref(st.Height))
			return nil
		}
		if err == nil && st.State == "rejected" {
			return fmt.Errorf("transfer %s rejected: %s", res.ID, st.Reason)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("transfer %s not confirmed within %v", res.ID, wait)
		case <-time.After(100 * time.Millisecond):
		}
	}
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
				return fmt.Errorf("message %s: unknown to the node at %s", id, apiURL)
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
