#!/usr/bin/env python3
"""check_truth.py — re-derive every expected label of a recon-gen data set.

Usage: check_truth.py DIR

Reads DIR/meta.json, processor.csv, ledger.csv, fulfillment.csv and
truth.csv, classifies every order with the rules of docs/CLASSIFICATION.md
(re-implemented here from that page, independently of tests/gen/scenario.c,
plus the charge_failure rule of docs/GENERATOR.md) and requires 100%
agreement with truth.csv. It also checks what the generator promises about
the files: unique ids, positive amounts, whole-second times inside
[from, to) and <= as_of, counts matching meta.json, and that stripe.csv +
adyen.csv + processor_other.csv carry exactly the succeeded events of
processor.csv. Exit status 0 when everything holds, 1 otherwise.

Money is handled as int minor units only (vendor decimals are parsed as
text), never as float.
"""

import collections
import csv
import datetime
import json
import os
import sys

EXPONENT = {"JPY": 0, "CLP": 0, "KWD": 3, "BHD": 3}  # every other code here: 2
FLAG_ORDER = [
    "currency_mismatch", "duplicate_charge", "overcharged", "undercharged",
    "missing_in_ledger", "missing_at_processor", "refund_not_in_ledger",
    "refund_not_at_processor", "dispute_open", "charged_not_delivered",
    "charged_after_cancel", "delivered_not_charged", "refunded_but_shipped",
]
STRIPE_KINDS = {"charge", "refund", "dispute", "dispute_reversal", "charge_failure"}
STRIPE_NON_ORDER = {"fee", "payout", "transfer", "other_adjustment"}
STRIPE_NEGATIVE = {"refund", "dispute", "charge_failure"}
ADYEN_KINDS = {"Settled": "charge", "Refunded": "refund", "Chargeback": "dispute",
               "ChargebackReversed": "dispute_reversal"}
ADYEN_NON_ORDER = {"Fee", "MerchantPayout", "DepositCorrection"}
ADYEN_CREDIT = {"Settled", "ChargebackReversed"}

Event = collections.namedtuple("Event", "txn_id payment_ref kind status amount currency t")
Entry = collections.namedtuple("Entry", "entry_id kind amount currency t")
Row = collections.namedtuple("Row", "status updated_at shipped_at")


class Problems:
    def __init__(self):
        self.count = 0

    def add(self, msg):
        self.count += 1
        if self.count <= 30:
            print("FAIL:", msg)


def epoch(text, probs, where):
    """ISO 8601 UTC 'YYYY-MM-DDTHH:MM:SSZ' -> int seconds."""
    if len(text) != 20 or text[10] != "T" or text[-1] != "Z":
        probs.add(f"{where}: time not in YYYY-MM-DDTHH:MM:SSZ form: {text!r}")
    return int(datetime.datetime.fromisoformat(text).timestamp())


def plain_epoch(text, offset_hours=0):
    """'YYYY-MM-DD HH:MM:SS' local (UTC+offset) -> int seconds UTC."""
    dt = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) - offset_hours * 3600


def minor_units(text, currency, probs, where):
    """Major-unit decimal text -> int minor units; exponent must match."""
    exp = EXPONENT.get(currency, 2)
    neg = text.startswith("-")
    body = text[1:] if neg else text
    whole, _, frac = body.partition(".")
    if not whole.isdigit() or len(frac) != exp or (frac and not frac.isdigit()):
        probs.add(f"{where}: amount {text!r} does not have {exp} decimals for {currency}")
        return 0
    v = int(whole) * 10 ** exp + (int(frac) if frac else 0)
    return -v if neg else v


def read_csv(path, header):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        got = next(r)
        if header is not None and got != header:
            raise SystemExit(f"{path}: header {got} != {header}")
        for row in r:
            yield row


def over(as_of, t, grace):
    return as_of - t > grace


def classify(events, entries, row, as_of, g, tol):
    """The label of one order, straight from CLASSIFICATION.md."""
    ev = [e for e in events if e.status == "succeeded" and e.t <= as_of]
    le = [e for e in entries if e.t <= as_of]
    charges = [e for e in ev if e.kind == "charge"]
    failures = [e for e in ev if e.kind == "charge_failure"]
    C = sum(e.amount for e in charges) - sum(e.amount for e in failures)
    n = len(charges) - len(failures)
    t_cap = min((e.t for e in charges), default=None)
    t_cap_last = max((e.t for e in charges), default=None)
    refunds = [e for e in ev if e.kind == "refund"]
    Rp = sum(e.amount for e in refunds)
    t_rp = max((e.t for e in refunds), default=None)
    disputes = sorted((e for e in ev if e.kind == "dispute"), key=lambda e: e.t)
    reversals = [e for e in ev if e.kind == "dispute_reversal"]
    open_disputes = len(disputes) - len(reversals)
    lc = [e for e in le if e.kind == "charge"]
    lr = [e for e in le if e.kind == "refund"]
    L = sum(e.amount for e in lc)
    t_l = min((e.t for e in lc), default=None)
    Rl = sum(e.amount for e in lr)
    t_rl = max((e.t for e in lr), default=None)
    status = row.status if row else "pending"
    shipped = status in ("shipped", "delivered")
    cancelled = status == "cancelled"
    returned = status == "returned"
    t_ship = None
    if row:
        t_ship = row.shipped_at if row.shipped_at is not None else row.updated_at
    net_p = C - Rp
    currencies = {e.currency for e in ev} | {e.currency for e in le}

    E, X = C - L, Rp - Rl
    if (E > 0 and X > 0) or (E < 0 and X < 0):
        m = min(abs(E), abs(X))
        s = 1 if E > 0 else -1
        E, X = E - s * m, X - s * m

    flags, waits = [], set()

    def rule(name, since, grace, wait):
        if over(as_of, since, grace):
            flags.append(name)
        else:
            waits.add(wait)

    mismatch = len(currencies) > 1
    if mismatch:
        flags.append("currency_mismatch")
    else:
        amounts = [e.amount for e in charges]
        dup = L > 0 and n >= 2 and E > tol and len(set(amounts)) < len(amounts)
        if dup:
            flags.append("duplicate_charge")
        if L > 0 and E > tol and not dup:
            flags.append("overcharged")
        if C > 0 and L > 0 and E < -tol:
            rule("undercharged", t_cap, g["processor"], "awaiting_processor")
    if C > 0 and L == 0:
        rule("missing_in_ledger", t_cap, g["ledger"], "awaiting_ledger")
    if L > 0 and C == 0:
        rule("missing_at_processor", t_l, g["processor"], "awaiting_processor")
    if not mismatch:
        if X > tol:
            rule("refund_not_in_ledger", t_rp, g["ledger"], "awaiting_ledger")
        if X < -tol:
            rule("refund_not_at_processor", t_rl, g["processor"], "awaiting_processor")
    if open_disputes > 0:
        flags.append("dispute_open")
    if net_p > tol and not shipped and not cancelled and not returned:
        rule("charged_not_delivered", t_cap, g["fulfillment"], "awaiting_fulfillment")
    if cancelled and net_p > tol:
        rule("charged_after_cancel", max(row.updated_at, t_cap_last), g["cancel"],
             "awaiting_processor")
    if shipped and C == 0:
        rule("delivered_not_charged", t_ship, g["processor"], "awaiting_processor")
    if C > 0 and Rp >= C and shipped:
        rule("refunded_but_shipped", t_rp, g["fulfillment"], "awaiting_fulfillment")

    assert flags == sorted(flags, key=FLAG_ORDER.index)
    if flags:
        return "|".join(flags)
    for w in ("awaiting_ledger", "awaiting_processor", "awaiting_fulfillment"):
        if w in waits:
            return w
    if cancelled and net_p <= tol:
        return "cancelled_clean"
    if C > 0 and Rp >= C:
        return "refunded_in_full"
    return "in_sync"


def load_canonical(path, probs, window, txn_ids):
    lo, hi = window
    events = collections.defaultdict(list)
    rows = 0
    header = "txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at".split(",")
    for r in read_csv(path, header):
        rows += 1
        txn, order, ref, kind, status, amount, cur, at = r
        t = epoch(at, probs, f"{path} {txn}")
        if not (lo <= t <= hi):
            probs.add(f"{path} {txn}: time {at} outside [from, min(to-1s, as_of)]")
        if kind not in STRIPE_KINDS or status not in ("succeeded", "pending", "failed"):
            probs.add(f"{path} {txn}: bad kind/status {kind}/{status}")
        if not amount.isdigit() or int(amount) <= 0:
            probs.add(f"{path} {txn}: amount {amount!r} not positive")
        if txn_ids is not None:
            if txn in txn_ids:
                probs.add(f"{path}: duplicate txn_id {txn}")
            txn_ids.add(txn)
        events[order].append(Event(txn, ref, kind, status, int(amount), cur, t))
    return events, rows


def load_stripe(path, probs, window, out):
    lo, hi = window
    rows = extra = 0
    for r in read_csv(path, None):
        rows += 1
        (txn, created_utc, _created, _av_utc, _av, currency, gross, fee, net, category,
         _source, _desc, facing, facing_cur, *_rest) = r
        charge_id, order = r[18], r[27]
        if len(r) != 28:
            probs.add(f"{path} {txn}: {len(r)} columns")
        t = plain_epoch(created_utc)
        if not (lo <= t <= hi):
            probs.add(f"{path} {txn}: time {created_utc} outside the window")
        g = minor_units(gross, "USD", probs, path)
        if minor_units(net, "USD", probs, path) != g - minor_units(fee, "USD", probs, path):
            probs.add(f"{path} {txn}: net != gross - fee")
        if not order:
            extra += 1
            if category not in STRIPE_NON_ORDER:
                probs.add(f"{path} {txn}: order-less row of category {category}")
            continue
        if category not in STRIPE_KINDS:
            probs.add(f"{path} {txn}: unknown category {category}")
            continue
        cur = facing_cur.upper()
        amount = minor_units(facing, cur, probs, f"{path} {txn}")
        if (amount < 0) != (category in STRIPE_NEGATIVE) or (g < 0) != (amount < 0):
            probs.add(f"{path} {txn}: sign of {category} amount {facing}/{gross}")
        out[order].append(Event(txn, charge_id, category, "succeeded", abs(amount), cur, t))
    return rows, extra


def load_adyen(path, probs, window, out):
    lo, hi = window
    rows = extra = 0
    for r in read_csv(path, None):
        rows += 1
        if len(r) != 23:
            probs.add(f"{path}: row {rows} has {len(r)} columns")
            continue
        psp, order, created, tz, typ, modref, gcur, gdebit, gcredit = (
            r[2], r[3], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
        if tz != "CET":
            probs.add(f"{path} {modref}: time zone {tz}")
        t = plain_epoch(created, offset_hours=1)
        if not (lo <= t <= hi):
            probs.add(f"{path} {modref}: time {created} CET outside the window")
        if not order:
            extra += 1
            if typ not in ADYEN_NON_ORDER:
                probs.add(f"{path} {modref}: order-less row of type {typ}")
            continue
        if typ not in ADYEN_KINDS:
            probs.add(f"{path} {modref}: unknown type {typ}")
            continue
        credit = typ in ADYEN_CREDIT
        text = gcredit if credit else gdebit
        if (gdebit == "") != credit or (gcredit == "") == credit:
            probs.add(f"{path} {modref}: {typ} in the wrong gross column")
        amount = minor_units(text, gcur, probs, f"{path} {modref}")
        out[order].append(Event(modref, psp, ADYEN_KINDS[typ], "succeeded", amount, gcur, t))
    return rows, extra


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    d = argv[1]
    probs = Problems()
    meta = json.load(open(os.path.join(d, "meta.json"), encoding="utf-8"))
    iso = lambda s: int(datetime.datetime.fromisoformat(s).timestamp())
    t_from, t_to, as_of = iso(meta["from"]), iso(meta["to"]), iso(meta["as_of"])
    grace = meta["grace_seconds"]
    tol = meta["amount_tolerance_minor"]
    window = (t_from, min(t_to - 1, as_of))

    txn_ids = set()
    events, n_proc = load_canonical(os.path.join(d, "processor.csv"), probs, window, txn_ids)

    entries = collections.defaultdict(list)
    entry_ids = set()
    n_ledger = 0
    for r in read_csv(os.path.join(d, "ledger.csv"),
                      "entry_id,order_id,kind,amount_minor,currency,recorded_at".split(",")):
        n_ledger += 1
        eid, order, kind, amount, cur, at = r
        t = epoch(at, probs, f"ledger {eid}")
        if eid in entry_ids:
            probs.add(f"ledger: duplicate entry_id {eid}")
        entry_ids.add(eid)
        if kind not in ("charge", "refund") or int(amount) <= 0:
            probs.add(f"ledger {eid}: bad kind/amount {kind}/{amount}")
        if not (window[0] <= t <= window[1]):
            probs.add(f"ledger {eid}: time {at} outside the window")
        entries[order].append(Entry(eid, kind, int(amount), cur, t))

    rows = {}
    for r in read_csv(os.path.join(d, "fulfillment.csv"),
                      "order_id,status,updated_at,shipped_at".split(",")):
        order, status, upd, shp = r
        if order in rows:
            probs.add(f"fulfillment: two rows for {order}")
        u = epoch(upd, probs, f"fulfillment {order}")
        s = epoch(shp, probs, f"fulfillment {order}") if shp else None
        for t in (u, s):
            if t is not None and not (window[0] <= t <= window[1]):
                probs.add(f"fulfillment {order}: time outside the window")
        if s is not None and s > u:
            probs.add(f"fulfillment {order}: shipped_at after updated_at")
        rows[order] = Row(status, u, s)

    truth = {}
    for order, expected in read_csv(os.path.join(d, "truth.csv"), ["order_id", "expected"]):
        if order in truth:
            probs.add(f"truth: duplicate order_id {order}")
        truth[order] = expected
    for src, keys in (("processor", events), ("ledger", entries), ("fulfillment", rows)):
        for order in keys:
            if order not in truth:
                probs.add(f"{src}: order {order} missing from truth.csv")

    agree = 0
    confusion = collections.Counter()
    for order, expected in truth.items():
        got = classify(events.get(order, []), entries.get(order, []), rows.get(order),
                       as_of, grace, tol)
        if got == expected:
            agree += 1
        else:
            confusion[(expected, got)] += 1
            probs.add(f"{order}: truth {expected}, rules give {got}")
    print(f"classification: {agree}/{len(truth)} orders agree with truth.csv")
    for (exp, got), k in confusion.most_common(20):
        print(f"  {k:8d}  expected {exp}  got {got}")

    # The vendor reports + processor_other.csv must give processor.csv's
    # succeeded events, nothing more and nothing less.
    vendor = collections.defaultdict(list)
    n_stripe, x_stripe = load_stripe(os.path.join(d, "stripe.csv"), probs, window, vendor)
    n_adyen, x_adyen = load_adyen(os.path.join(d, "adyen.csv"), probs, window, vendor)
    other, n_other = load_canonical(os.path.join(d, "processor_other.csv"), probs, window, None)
    for order, evs in other.items():
        vendor[order].extend(e for e in evs if e.status == "succeeded")
    want = collections.Counter(e._replace(status="succeeded") + (o,)
                               for o, evs in events.items() for e in evs
                               if e.status == "succeeded")
    have = collections.Counter(e + (o,) for o, evs in vendor.items() for e in evs)
    missing, surplus = want - have, have - want
    for e in list(missing)[:5]:
        probs.add(f"vendor files lack {e}")
    for e in list(surplus)[:5]:
        probs.add(f"vendor files add {e}")
    print(f"vendor files: {sum(have.values())} order events "
          f"({len(missing)} missing, {len(surplus)} extra); non-order rows: "
          f"stripe {x_stripe}/{n_stripe}, adyen {x_adyen}/{n_adyen}")

    counts = {"processor.csv": n_proc, "stripe.csv": n_stripe, "adyen.csv": n_adyen,
              "processor_other.csv": n_other, "ledger.csv": n_ledger,
              "fulfillment.csv": len(rows), "truth.csv": len(truth)}
    for name, k in counts.items():
        if meta["files"][name] != k:
            probs.add(f"meta.json says {meta['files'][name]} rows in {name}, found {k}")
    labels = collections.Counter(truth.values())
    for label, k in meta["labels"].items():
        if labels.get(label, 0) != k:
            probs.add(f"meta.json says {k} orders {label}, truth.csv has {labels.get(label, 0)}")
    if meta["orders"] != len(truth):
        probs.add(f"meta.json orders {meta['orders']} != {len(truth)} in truth.csv")
    missing_scen = [s for s, v in meta["scenarios"].items() if v["count"] == 0]
    if len(truth) >= 1000 and missing_scen:
        probs.add(f"scenarios never generated: {missing_scen}")

    flagged = sum(k for label, k in labels.items()
                  if label.split("|")[0] in FLAG_ORDER)
    print(f"flagged orders: {flagged} ({100 * flagged / max(1, len(truth)):.2f}%)")
    print("OK" if probs.count == 0 else f"{probs.count} problem(s)")
    return 0 if probs.count == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
