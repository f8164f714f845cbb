package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/mwledger/mwledger/schemas"
)

// The candidate index of the embedded ledgers (see "Candidates" in
// identity.go). The candidates index holds, per deal, keys ending in its id:
//
//	'L' op 0x00 uvarint(len(label)) label 'g' id            every deal of a group
//	'L' op 0x00 uvarint(len(label)) label 'a' id            an aggregate
//	'L' op 0x00 uvarint(len(label)) label 'f' fig value id  a known figure
//	'L' op 0x00 uvarint(len(label)) label 'n' fig id        no known figure
//	'L' op 0x00 uvarint(len(label)) label 'z' id            no known figure at all
//	'X' op 0x00 cp fig value id                             a known figure, any label
//
// where op is the operator key (schemas.Key), label the key (schemas.Key) of the counterparty's label,
// fig 'c' (capacity) or 'v' (value), value the figure as 8 bytes that sort like
// the number, and cp 'n' (named counterparty) or 'u' (undisclosed).
// The candidate_keys index maps a deal id to the keys written for it, so that a
// deal that changes loses its old ones. Both change in the deal's transaction.

func figTag(field string) byte {
	if field == schemas.FieldCapacityMW {
		return 'c'
	}
	return 'v'
}

func groupPrefix(g DealGroup) []byte {
	b := make([]byte, 0, len(g.Op)+len(g.Label)+8)
	b = append(b, 'L')
	b = append(b, g.Op...)
	b = append(b, 0)
	b = binary.AppendUvarint(b, uint64(len(g.Label)))
	return append(b, g.Label...)
}

func crossPrefix(op string, named bool, field string) []byte {
	b := append([]byte{'X'}, op...)
	cp := byte('u')
	if named {
		cp = 'n'
	}
	return append(b, 0, cp, figTag(field))
}

// sortableFloat encodes v so that byte order is numeric order.
func sortableFloat(v float64) []byte {
	u := math.Float64bits(v)
	if u>>63 == 1 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(nil, u)
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// candidateKeys are the index keys of d, sorted.
func candidateKeys(d *Deal) [][]byte {
	g := groupOf(d)
	gp := groupPrefix(g)
	id := []byte(d.ID)
	keys := [][]byte{join(gp, []byte{'g'}, id)}
	if d.Aggregate {
		keys = append(keys, join(gp, []byte{'a'}, id))
	}
	none := 0
	for _, field := range figureFields {
		tag := figTag(field)
		known := knownFigures(d, field)
		if len(known) == 0 {
			keys = append(keys, join(gp, []byte{'n', tag}, id))
			none++
			continue
		}
		xp := crossPrefix(g.Op, d.Counterparty.Name != nil, field)
		for _, v := range known {
			keys = append(keys, join(gp, []byte{'f', tag}, sortableFloat(v), id), join(xp, sortableFloat(v), id))
		}
	}
	if none == len(figureFields) {
		keys = append(keys, join(gp, []byte{'z'}, id))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || !bytes.Equal(k, keys[i-1]) {
			out = append(out, k)
		}
	}
	return out
}

func encodeKeys(keys [][]byte) []byte {
	var b []byte
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return b
}

func decodeKeys(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, fmt.Errorf("corrupt candidate key list")
		}
		out = append(out, b[w:w+int(n)])
		b = b[w+int(n):]
	}
	return out, nil
}

// indexCandidates writes the candidate keys of d and deletes those it had
// before and no longer has.
func indexCandidates(tx KVTx, d *Deal) error {
	keys := candidateKeys(d)
	enc := encodeKeys(keys)
	prev := tx.Get(BucketCandidateKeys, []byte(d.ID))
	if prev != nil && bytes.Equal(prev, enc) {
		return nil
	}
	old, err := decodeKeys(bytes.Clone(prev))
	if err != nil {
		old = nil // rewritten below; stale keys only widen candidate sets
	}
	keep := make(map[string]bool, len(keys))
	for _, k := range keys {
		keep[string(k)] = true
	}
	for _, k := range old {
		if !keep[string(k)] {
			if err := tx.Delete(BucketCandidates, k); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		if err := tx.Put(BucketCandidates, k, nil); err != nil {
			return err
		}
	}
	return tx.Put(BucketCandidateKeys, []byte(d.ID), enc)
}

// rebuildCandidates recreates the candidate index from the deals.
func rebuildCandidates(tx KVTx) error {
	for _, b := range []Bucket{BucketCandidates, BucketCandidateKeys} {
		if err := tx.Clear(b); err != nil {
			return err
		}
	}
	// Keys go in in order: bbolt splits its nodes only at commit, so many keys
	// put in one transaction in random order make each insert slow.
	type entry struct {
		id   string
		keys []byte
	}
	var all [][]byte
	var rev []entry
	tx.Scan(BucketDeals, nil, func(k, v []byte) bool {
		d := decodeDeal(string(k), v)
		if d == nil {
			// Unreadable: no keys (as before, it is no candidate) until a
			// record replaces it.
			rev = append(rev, entry{string(k), nil})
			return true
		}
		keys := candidateKeys(d)
		all = append(all, keys...)
		rev = append(rev, entry{d.ID, encodeKeys(keys)})
		return true
	})
	for _, e := range rev {
		if err := tx.Put(BucketCandidateKeys, []byte(e.id), e.keys); err != nil {
			return err
		}
	}
	sort.Slice(all, func(i, j int) bool { return bytes.Compare(all[i], all[j]) < 0 })
	for i, k := range all {
		if i > 0 && bytes.Equal(k, all[i-1]) {
			continue
		}
		if err := tx.Put(BucketCandidates, k, nil); err != nil {
			return err
		}
	}
	return nil
}

// kvCandidates is the CandidateSource of one embedded-ledger transaction.
type kvCandidates struct {
	tx  KVTx
	ops map[string]bool // the operator keys of the batch
}

var _ CandidateSource = (*kvCandidates)(nil)

func newKVCandidates(tx KVTx, cs []schemas.Contract) *kvCandidates {
	b := &kvCandidates{tx: tx, ops: map[string]bool{}}
	for _, c := range cs {
		b.ops[schemas.Key(c.Operator.Name)] = true
	}
	return b
}

func (b *kvCandidates) load(w *Working, id string) {
	if _, ok := w.deals[id]; ok {
		return
	}
	if d := getDeal(b.tx, id); d != nil {
		w.load(d)
	}
}

// scan calls fn with the id ending each key under prefix; with a range, only
// for keys whose next 8 bytes are a value in [lo, hi].
func (b *kvCandidates) scan(prefix []byte, rng *FigureRange, fn func(id string)) {
	start := prefix
	var hi []byte
	if rng != nil {
		start = join(prefix, sortableFloat(rng.Lo))
		hi = sortableFloat(rng.Hi)
	}
	var ids []string // loaded after the scan: fn reads the same transaction
	b.tx.Scan(BucketCandidates, start, func(k, _ []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		rest := k[len(prefix):]
		if rng != nil {
			if len(rest) < 8 || bytes.Compare(rest[:8], hi) > 0 {
				return false
			}
			rest = rest[8:]
		}
		ids = append(ids, string(rest))
		return true
	})
	for _, id := range ids {
		fn(id)
	}
}

func (b *kvCandidates) Candidates(w *Working, cs []schemas.Contract) error {
	w.pools = map[string][]string{}
	for _, c := range cs {
		b.load(w, c.ID)
		if id := b.tx.Get(BucketRecords, []byte(c.ID)); id != nil {
			b.load(w, string(id))
		}
		key := PoolKey(c)
		if _, ok := w.pools[key]; ok {
			continue
		}
		pool := b.pool(c)
		for _, id := range pool {
			b.load(w, id)
		}
		w.pools[key] = pool
	}
	return nil
}

// pool lists the stored deals candidate may accept for c (see identity.go):
// the deals found by a figure of c (or, of c's label, those that know none of
// c's figures), kept when every figure c states agrees or is unknown (read
// from the deal's index keys, without decoding it).
func (b *kvCandidates) pool(c schemas.Contract) []string {
	op := schemas.Key(c.Operator.Name)
	gp := groupPrefix(DealGroup{op, schemas.Key(c.Counterparty.Label())})
	figs := FigureRanges(c)
	set := map[string]bool{}
	if len(figs) == 0 {
		b.scan(join(gp, []byte{'g'}), nil, func(id string) { set[id] = true })
		return keysOf(set)
	}
	seen := map[string]bool{}
	check := func(id string) {
		if !seen[id] {
			seen[id] = true
			if b.agrees(id, figs) {
				set[id] = true
			}
		}
	}
	// The same label.
	none := []byte{'z'}
	if len(figs) == 1 {
		none = []byte{'n', figTag(figs[0].Field)}
	}
	b.scan(join(gp, none), nil, check)
	for i := range figs {
		if f := &figs[i]; f.OK {
			b.scan(join(gp, []byte{'f', figTag(f.Field)}), f, check)
		}
	}
	// Another label: an undisclosed side, and a figure that agrees.
	for i := range figs {
		f := &figs[i]
		if !f.OK {
			continue
		}
		b.scan(crossPrefix(op, false, f.Field), f, check)
		if c.Counterparty.Name == nil {
			b.scan(crossPrefix(op, true, f.Field), f, check)
		}
	}
	return keysOf(set)
}

// agrees says whether each figure of figs is unknown for deal id or has a
// known value in its range, reading the deal's 'X' keys.
func (b *kvCandidates) agrees(id string, figs []FigureRange) bool {
	keys, err := decodeKeys(b.tx.Get(BucketCandidateKeys, []byte(id)))
	if err != nil {
		return true // unreadable: let candidate decide on the deal itself
	}
	for _, f := range figs {
		tag := figTag(f.Field)
		lo, hi := sortableFloat(f.Lo), sortableFloat(f.Hi)
		known, ok := false, false
		for _, k := range keys {
			if len(k) == 0 || k[0] != 'X' {
				continue
			}
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(k) < i+3+8 || k[i+2] != tag {
				continue
			}
			known = true
			if v := k[i+3 : i+11]; f.OK && bytes.Compare(v, lo) >= 0 && bytes.Compare(v, hi) <= 0 {
				ok = true
				break
			}
		}
		if known && !ok {
			return false
		}
	}
	return true
}

func (b *kvCandidates) Aggregates(w *Working, gs []DealGroup) ([]DealGroup, error) {
	var found []DealGroup
	for _, g := range gs {
		if !b.ops[g.Op] {
			continue // not an operator of the batch: its deals were never all read
		}
		has := false
		b.scan(join(groupPrefix(g), []byte{'a'}), nil, func(id string) {
			has = true
			b.load(w, id)
		})
		if has {
			found = append(found, g)
		}
	}
	return found, nil
}

func (b *kvCandidates) Members(w *Working, gs []DealGroup) error {
	for _, g := range gs {
		if !b.ops[g.Op] {
			continue
		}
		b.scan(join(groupPrefix(g), []byte{'g'}), nil, func(id string) { b.load(w, id) })
	}
	return nil
}

// The embedded stores read deals whole.
func (b *kvCandidates) Partial([]string) []string     { return nil }
func (b *kvCandidates) Full(*Working, []string) error { return nil }
