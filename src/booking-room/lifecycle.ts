import { generateChatToken } from "../auth/chat-token";
import type { Identity } from "../auth/jwt";
import { fail, ok, type Result } from "../errors";
import type { CreateBookingBody, TerminationReason } from "../protocol";
import type { Notice } from "./audience";
import { type BookingRecord, type BookingStore, isTerminal, partyOf } from "./booking-store";

export type Transition<T> = Result<{ value: T; notices: Notice[] }>;

/** Who is asking for a change: a user, or the payment provider's signed webhook. */
export type Actor = { kind: "user"; identity: Identity } | { kind: "payment-webhook" };

const TERMINATION_MESSAGES: Record<TerminationReason, string> = {
  completed: "Chat has been terminated as the job is completed",
  cancelled: "Chat has been terminated as the booking was cancelled",
  declined: "Chat has been terminated as the provider declined the booking",
};

export type AcceptOutcome = { booking: BookingRecord; chatToken: string; waitingForPayment: boolean };

/**
 * The booking state machine. Every method runs synchronously inside the room, so two calls
 * (say, payment and acceptance racing) can never interleave.
 */
export class Lifecycle {
  constructor(
    private readonly store: BookingStore,
    private readonly chatTokenSecret: string,
  ) {}

  create(bookingId: string, customer: Identity, body: CreateBookingBody): Transition<BookingRecord> {
    if (customer.role !== "customer") return fail("forbidden", "Only customers can create bookings");
    if (body.providerId === customer.userId) {
      return fail("invalid_request", "A customer cannot book themselves");
    }
    if (this.store.get()) return fail("invalid_transition", "Booking already exists");
    const now = new Date().toISOString();
    this.store.insert({
      id: bookingId,
      customerId: customer.userId,
      providerId: body.providerId,
      serviceId: body.serviceId ?? null,
      scheduledAt: body.scheduledAt ?? null,
      notes: body.notes ?? null,
      status: "pending_payment",
      paymentStatus: "pending",
      createdAt: now,
      updatedAt: now,
      version: 1,
    });
    return this.done([]);
  }

  confirmPayment(actor: Actor, paymentReference: string | null): Transition<BookingRecord> {
    if (actor.kind === "user" && actor.identity.role !== "admin") {
      return fail("forbidden", "Only an admin or the payment webhook can confirm payment");
    }
    const booking = this.store.get();
    if (!booking) return notFound();
    if (booking.paymentStatus === "paid_to_escrow") return this.done([]);
    if (isTerminal(booking.status)) return closed(booking);

    const now = new Date().toISOString();
    const chatToken = generateChatToken(
      this.chatTokenSecret,
      booking.id,
      booking.customerId,
      "customer",
      now,
    );
    this.store.update({
      paymentStatus: "paid_to_escrow",
      status: booking.status === "pending_payment" ? "paid_to_escrow" : booking.status,
      paymentReference,
      customerChatToken: chatToken,
      customerChatTokenIssuedAt: now,
      updatedAt: now,
    });
    const opened = this.activateChatIfReady(now);
    const notices: Notice[] = [
      {
        to: ["customer"],
        event: {
          event: "chat-token-received",
          data: {
            bookingId: booking.id,
            role: "customer",
            chatToken,
            // The seed's field: whether the chat is open now, or waits for the provider to accept.
            chatActive: this.store.get()?.chatActive ?? false,
            message: "Payment confirmed. Your chat token is ready.",
          },
        },
      },
    ];
    return this.done([...notices, ...opened]);
  }

  accept(identity: Identity): Transition<AcceptOutcome> {
    const open = this.openBooking(identity, "provider", "accept it");
    if (!open.ok) return open;
    const booking = open.value;
    if (booking.providerAccepted && booking.providerChatToken) {
      // Accepting twice is a retry, not a new acceptance: same token, no new events.
      return this.done([], (b) => acceptOutcome(b, booking.providerChatToken ?? ""));
    }

    const now = new Date().toISOString();
    const chatToken = generateChatToken(
      this.chatTokenSecret,
      booking.id,
      booking.providerId,
      "provider",
      now,
    );
    const waitingForPayment = booking.paymentStatus !== "paid_to_escrow";
    this.store.update({
      status: "confirmed",
      providerAccepted: true,
      providerChatToken: chatToken,
      providerChatTokenIssuedAt: now,
      updatedAt: now,
    });
    const notices: Notice[] = [
      {
        to: ["provider"],
        event: {
          event: "booking-accepted-provider",
          data: {
            bookingId: booking.id,
            message: waitingForPayment
              ? "Booking accepted. The chat opens once the customer's payment is confirmed."
              : "Booking accepted. Your chat token is ready.",
            chatToken,
            waitingForPayment,
          },
        },
      },
      {
        to: ["customer", "admins"],
        event: {
          event: "booking-accepted",
          data: { bookingId: booking.id, message: "Your booking has been accepted by the provider" },
        },
      },
    ];
    return this.done([...notices, ...this.activateChatIfReady(now)], (b) => acceptOutcome(b, chatToken));
  }

  decline(identity: Identity): Transition<BookingRecord> {
    const open = this.openBooking(identity, "provider", "decline it");
    if (!open.ok) return open;
    if (open.value.providerAccepted) {
      return fail("already_accepted", "An accepted booking cannot be declined; cancel it instead");
    }
    return this.terminate("declined");
  }

  start(identity: Identity): Transition<BookingRecord> {
    const open = this.openBooking(identity, "provider", "start the job");
    if (!open.ok) return open;
    if (open.value.status === "in_progress") {
      return fail("invalid_transition", "The job has already started");
    }
    const notReady = unlessAcceptedAndPaid(open.value);
    if (notReady) return notReady;
    const now = new Date().toISOString();
    this.store.update({ status: "in_progress", updatedAt: now });
    return this.done([]);
  }

  complete(identity: Identity): Transition<BookingRecord> {
    const open = this.openBooking(identity, "provider-or-admin", "complete the job");
    if (!open.ok) return open;
    const notReady = unlessAcceptedAndPaid(open.value);
    if (notReady) return notReady;
    return this.terminate("completed");
  }

  cancel(identity: Identity): Transition<BookingRecord> {
    const open = this.openBooking(identity, "party-or-admin", "cancel it");
    if (!open.ok) return open;
    return this.terminate("cancelled");
  }

  /**
   * An admin freezes the chat (`frozen`) or lifts that: while frozen, the parties' sends are
   * refused. Asking for the state it is in already changes nothing and announces nothing.
   */
  freeze(identity: Identity, frozen: boolean): Transition<BookingRecord> {
    if (identity.role !== "admin") return fail("forbidden", "Only admins can freeze or unfreeze a chat");
    const booking = this.store.get();
    if (!booking) return notFound();
    if (isTerminal(booking.status)) return closed(booking);
    if ((booking.chatFrozenAt !== null) === frozen) return this.done([]);
    const now = new Date().toISOString();
    this.store.update({ chatFrozenAt: frozen ? now : null, updatedAt: now });
    return this.done([
      {
        to: ["customer", "provider", "admins"],
        event: {
          event: "chat-frozen",
          data: {
            bookingId: booking.id,
            frozen,
            message: frozen
              ? "An admin has paused this chat. You can read it, but not send, until it is reopened."
              : "An admin has reopened this chat.",
          },
        },
      },
    ]);
  }

  /** The booking, if it exists, `identity` may act on it, and it is not closed yet. */
  private openBooking(identity: Identity, who: Who, action: string): Result<BookingRecord> {
    const booking = this.store.get();
    if (!booking) return notFound();
    const party = partyOf(booking, identity);
    const isAdmin = identity.role === "admin";
    const allowed = {
      provider: party === "provider",
      "provider-or-admin": party === "provider" || isAdmin,
      "party-or-admin": party !== null || isAdmin,
    }[who];
    if (!allowed) return fail("forbidden", `Only ${WHO_TEXT[who]} can ${action}`);
    if (isTerminal(booking.status)) return closed(booking);
    return ok(booking);
  }

  /** Opens the chat the first time both tokens exist; never again after that or after termination. */
  private activateChatIfReady(now: string): Notice[] {
    const booking = this.store.get();
    if (!booking || booking.chatActive || booking.chatTerminatedAt !== null) return [];
    if (!booking.customerChatToken || !booking.providerChatToken) return [];
    this.store.update({ chatActive: true, chatReadyAt: now, updatedAt: now });
    return [
      {
        to: ["customer", "provider", "admins"],
        event: { event: "chatroom-ready", data: { bookingId: booking.id, chatActive: true } },
      },
    ];
  }

  private terminate(reason: TerminationReason): Transition<BookingRecord> {
    const booking = this.store.get();
    if (!booking) return notFound();
    const now = new Date().toISOString();
    this.store.update({
      status: reason,
      chatActive: false,
      chatTerminatedAt: now,
      chatTerminationReason: reason,
      updatedAt: now,
    });
    return this.done([
      {
        to: ["everyone"],
        event: {
          event: "chat-terminated",
          data: { bookingId: booking.id, message: TERMINATION_MESSAGES[reason], reason, terminatedAt: now },
        },
      },
    ]);
  }

  private done(notices: Notice[]): Transition<BookingRecord>;
  private done<T>(notices: Notice[], project: (booking: BookingRecord) => T): Transition<T>;
  private done<T>(notices: Notice[], project?: (booking: BookingRecord) => T): Transition<T | BookingRecord> {
    const booking = this.store.get();
    if (!booking) return notFound();
    return ok({ value: project ? project(booking) : booking, notices });
  }
}

type Who = "provider" | "provider-or-admin" | "party-or-admin";
const WHO_TEXT: Record<Who, string> = {
  provider: "this booking's provider",
  "provider-or-admin": "this booking's provider or an admin",
  "party-or-admin": "this booking's customer, provider or an admin",
};

function unlessAcceptedAndPaid(booking: BookingRecord) {
  if (!booking.providerAccepted) return fail("not_accepted", "The provider has not accepted the booking");
  if (booking.paymentStatus !== "paid_to_escrow") {
    return fail("payment_required", "The booking has not been paid");
  }
  return null;
}

function acceptOutcome(booking: BookingRecord, chatToken: string): AcceptOutcome {
  return { booking, chatToken, waitingForPayment: booking.paymentStatus !== "paid_to_escrow" };
}

function notFound() {
  return fail("booking_not_found", "Booking not found");
}

function closed(booking: BookingRecord) {
  return fail("booking_closed", `The booking is already ${booking.status}`);
}
