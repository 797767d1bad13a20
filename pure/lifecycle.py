"""Every lifecycle of the station, declared as data and consulted as a read-only lookup table.

Theory of operation. A `transitions.Machine` is built once per table, at import, with `model=None` and
`auto_transitions=False`; the core never binds a model to it nor triggers it. It only asks "from this state,
where does this trigger lead?" (`lookup`), so the current state always lives in the immutable `Station`.

Rules every caller keeps:
1. A trigger with no edge from the current state is never a silent no-op.
2. Where the input that fires it can legitimately arrive in that state (a late reply, a second Shutdown, a
   cable plugged twice), the handler looks the edge up and, finding none, refuses: the state stays as it was and
   the effects carry `refusal(state, trigger)`, a Log naming both.
3. Where only a bug of ours can bring the trigger to that state (the handler's own guard rules it out), the
   handler calls `move`, which raises `NoEdge` at once, so that tests and the supervisor see it.
4. Guards (conditions on anything but the state) stay in the handlers, never in the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transitions import Machine

from chargecore.pure.effects import Log


@dataclass(frozen=True, slots=True)
class Edge:
    trigger: str
    source: str
    dest: str


class NoEdge(Exception):
    """`move` was asked for an edge its table lacks: the caller's guard let through what it should not (a bug)."""

    def __init__(self, lifecycle: str, state: str, trigger: str) -> None:
        super().__init__(f"{lifecycle}: no edge for {trigger!r} from state {state!r}")
        self.lifecycle = lifecycle
        self.state = state
        self.trigger = trigger


class Lifecycle:
    """A named state table; its first state is where the lifecycle begins."""

    __slots__ = ("_machine", "name", "states")

    def __init__(self, name: str, states: Sequence[str], edges: Sequence[Edge]) -> None:
        self.name = name
        self.states = tuple(states)
        self._machine = Machine(
            model=None,
            states=list(states),
            transitions=[{"trigger": e.trigger, "source": e.source, "dest": e.dest} for e in edges],
            initial=states[0],
            auto_transitions=False,
        )

    def lookup(self, state: str, trigger: str) -> str | None:
        """Where `trigger` leads from `state`; None where the table has no such edge."""
        event = self._machine.events.get(trigger)
        if event is None:
            return None
        edges = event.transitions.get(state)
        if not edges:
            return None
        dest: str | None = edges[0].dest  # None only for internal transitions, which no table has
        return dest

    def move(self, state: str, trigger: str) -> str:
        """Where `trigger` leads from `state`, for a caller whose guard makes the edge certain (rule 3)."""
        dest = self.lookup(state, trigger)
        if dest is None:
            raise NoEdge(self.name, state, trigger)
        return dest

    def refusal(self, state: str, trigger: str, subject: str | None = None) -> Log:
        """The Log of an input refused because `trigger` has no edge from `state` (rule 2)."""
        return Log("warning", f"{subject or self.name}: {trigger} refused in state {state}")

    def triggers(self) -> frozenset[str]:
        return frozenset(self._machine.events)


# --- connection (Part 4 section 5.3) ----------------------------------------------------------------------
# `off` until PowerUp; `connecting` while the shell dials; `up` while the websocket is open; `waiting` is the
# back-off pause between attempts; `stopped` after Shutdown, for good. A missing edge is an input that came at the
# wrong time (Connected with no attempt under way, ConnectionLost while waiting, a second PowerUp or Shutdown):
# refused. `retry` only fires when the back-off timer, which only `waiting` arms, runs out: a bug elsewhere.

CONNECTION_LIFECYCLE = Lifecycle(
    "connection",
    ["off", "connecting", "up", "waiting", "stopped"],
    [
        Edge("power_up", "off", "connecting"),
        Edge("connected", "connecting", "up"),
        Edge("lost", "connecting", "waiting"),
        Edge("lost", "up", "waiting"),
        Edge("retry", "waiting", "connecting"),
        *(Edge("stop", source, "stopped") for source in ("off", "connecting", "up", "waiting")),
    ],
)

# --- RPC session (Part 4 4.1.1) ---------------------------------------------------------------------------------
# `closed` while no websocket is open; `idle` when a CALL of ours may go; `awaiting` while one CALL is
# outstanding: `send` exists only from `idle`, so at most one is. Closing is idempotent (`close` from `closed`):
# a connection lost before it ever opened still gives up the queued calls that describe the present. Every other
# missing edge is a bug (the session's own guards, `pump` and the in-flight call, rule it out): it raises.

RPC_LIFECYCLE = Lifecycle(
    "rpc",
    ["closed", "idle", "awaiting"],
    [
        Edge("open", "closed", "idle"),
        Edge("send", "idle", "awaiting"),
        Edge("reply", "awaiting", "idle"),
        Edge("timeout", "awaiting", "idle"),
        *(Edge("close", source, "closed") for source in ("closed", "idle", "awaiting")),
    ],
)

# --- registration (B01-B03, B10) --------------------------------------------------------------------------------
# The status of the last BootNotification answer; `Unknown` before any. The triggers are the statuses the CSMS
# answers (Pending, Accepted, Rejected) and `new_csms`. Once Accepted the station stays Accepted until it reboots
# or connects through a different network profile, whose CSMS has not registered it (`new_csms`, B10.FR.10; from
# `Unknown` there is nothing to forget). No answer can come from `Accepted`: no BootNotification leaves an accepted
# station (a TriggerMessage for one is Rejected, F06.FR.17), so such an answer is a bug: it raises.

REGISTRATION_LIFECYCLE = Lifecycle(
    "registration",
    ["Unknown", "Pending", "Accepted", "Rejected"],
    [
        *(
            Edge(status, source, status)
            for status in ("Pending", "Accepted", "Rejected")
            for source in ("Unknown", "Pending", "Rejected")
        ),
        *(Edge("new_csms", source, "Unknown") for source in ("Unknown", "Pending", "Accepted", "Rejected")),
    ],
)

# --- connector (block G) ----------------------------------------------------------------------------------------
# The physical state of one connector, as the hardware reports it; its OCPP status is derived from it
# (availability.connector_status). A missing edge is a hardware report that contradicts the state (a cable plugged
# twice, a fault cleared that was never raised): refused, since hardware does say such things.

CONNECTOR_LIFECYCLE = Lifecycle(
    "connector",
    ["empty", "plugged", "faulted", "plugged_faulted"],
    [
        Edge("plug", "empty", "plugged"),
        Edge("plug", "faulted", "plugged_faulted"),
        Edge("unplug", "plugged", "empty"),
        Edge("unplug", "plugged_faulted", "faulted"),
        Edge("fault", "empty", "faulted"),
        Edge("fault", "plugged", "plugged_faulted"),
        Edge("recover", "faulted", "empty"),
        Edge("recover", "plugged_faulted", "plugged"),
    ],
)

# --- transaction (E01, E06) -------------------------------------------------------------------------------------
# `pending` holds a session (a token being authorized, or authorized and waiting for a TxStartPoint) before
# TransactionEvent Started; `started` runs until a TxStopPoint is left (`end`, TransactionEvent Ended) or a pending
# session is given up (`abandon`, nothing was ever sent). `ended` is where a transaction leaves
# `Station.transactions`: it is looked up by the one function that removes a transaction, and never stored. Every
# missing edge (start twice, end what never started, abandon a started one) is a bug: it raises.

TRANSACTION_LIFECYCLE = Lifecycle(
    "transaction",
    ["pending", "started", "ended"],
    [
        Edge("start", "pending", "started"),
        Edge("end", "started", "ended"),
        Edge("abandon", "pending", "ended"),
    ],
)

# --- authorization (blocks C and E) -----------------------------------------------------------------------------
# The authorization of one session: `none` before any token (or after a refusal), `authorizing` while a verdict
# is awaited (from the application, then the CSMS: `ask` again while still authorizing), `accepted` while it
# holds, `withdrawn` after a local or remote stop or a deauthorization; the TxStopPoint Authorized is left when
# `accepted` is. A verdict the station decides itself (cache, local list, offline rules, a remote start taken as
# it is) comes without any `ask`, so `accept` and `refuse` also leave `none` and `withdrawn` (a refusal there
# keeps the state). A missing edge is a verdict or a stop that arrives for a session that has moved on meanwhile
# (a late Authorize answer): refused; where the handler's guard rules it out, it raises.

AUTHORIZATION_LIFECYCLE = Lifecycle(
    "authorization",
    ["none", "authorizing", "accepted", "withdrawn"],
    [
        *(Edge("ask", source, "authorizing") for source in ("none", "authorizing", "withdrawn")),
        *(Edge("accept", source, "accepted") for source in ("none", "authorizing", "withdrawn")),
        Edge("refuse", "none", "none"),
        Edge("refuse", "authorizing", "none"),
        Edge("refuse", "withdrawn", "withdrawn"),
        Edge("withdraw", "accepted", "withdrawn"),
    ],
)

# --- firmware update (L01) -------------------------------------------------------------------------------------
# One UpdateFirmware from acceptance to its last FirmwareStatusNotification; every state but `Idle` is the status
# the station sends on entering it. `Idle`: accepted, nothing started yet (the first `settle` schedules or starts
# the download). A failed download attempt with retries left waits as `Downloading` (`download` again); the last
# one ends in `DownloadFailed`. `InstallScheduled` waits for installDateTime and for the last transaction to end
# (L01.FR.06). `InstallRebooting` reboots once the CSMS has heard it; `Installed` is reported after the boot
# (`rebooted`). An update a restart interrupted is restored in the phase its record names and, once the boot is
# accepted, ends `download_failed` or `installation_failed`. The failure states and `Installed` are final: a new
# UpdateFirmware starts a new update. A missing edge is a result from the shell for a step the update is no longer
# in (a cancelled download): refused.

FIRMWARE_LIFECYCLE = Lifecycle(
    "firmware",
    [
        "Idle",
        "DownloadScheduled",
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "InstallScheduled",
        "Installing",
        "InstallRebooting",
        "Installed",
        "DownloadFailed",
        "InvalidSignature",
        "InstallVerificationFailed",
        "InstallationFailed",
    ],
    [
        Edge("schedule", "Idle", "DownloadScheduled"),
        *(Edge("download", source, "Downloading") for source in ("Idle", "DownloadScheduled", "Downloading")),
        Edge("downloaded", "Downloading", "Downloaded"),
        Edge("download_failed", "Downloading", "DownloadFailed"),
        Edge("verified", "Downloaded", "SignatureVerified"),
        Edge("invalid_signature", "Downloaded", "InvalidSignature"),
        # from Downloaded only for an unsigned update (L02): there is no signature to verify
        *(Edge("wait_install", source, "InstallScheduled") for source in ("Downloaded", "SignatureVerified")),
        *(Edge("install", source, "Installing") for source in ("Downloaded", "SignatureVerified", "InstallScheduled")),
        Edge("installed", "Installing", "InstallRebooting"),
        Edge("verification_failed", "Installing", "InstallVerificationFailed"),
        Edge("installation_failed", "Installing", "InstallationFailed"),
        Edge("rebooted", "InstallRebooting", "Installed"),
    ],
)

LIFECYCLES = (
    CONNECTION_LIFECYCLE,
    RPC_LIFECYCLE,
    REGISTRATION_LIFECYCLE,
    CONNECTOR_LIFECYCLE,
    TRANSACTION_LIFECYCLE,
    AUTHORIZATION_LIFECYCLE,
    FIRMWARE_LIFECYCLE,
)
"""Every table, for the tests and the diagram generator."""
