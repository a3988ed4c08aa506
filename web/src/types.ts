// Shapes of the API answers the UI reads (see schemas/openapi.yaml); only the fields used here.
export interface Position {
  lat: number;
  lon: number;
}
export interface Me {
  id: string;
  email: string;
  display_name: string;
  community_id: string | null;
  home_site_id: string | null;
  location: Position | null;
  roles: string[];
  staff_site_ids: string[];
  member_number?: number | null;
  status?: string;
  email_verified?: boolean;
  acting_staff_id?: string;
  /** The communities the member administers (GET /v1/me only). */
  admin_community_ids?: string[];
}
export interface Session {
  member: Me;
  token: string;
}
export interface PublicMember {
  id: string;
  display_name: string;
  home_site_id: string | null;
  exchanges_completed?: number;
  reliability?: number;
  email?: string | null;
  member_number?: number;
  phone?: string | null;
  rating_average?: number | null;
  rating_count?: number;
  no_shows?: number;
}
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
export interface Site {
  id: string;
  community_id: string;
  name: string;
  kind: string;
  location: Position;
  address: string;
  opening_hours: OpeningHours | null;
  open_now?: boolean;
}
export interface OpeningHours {
  weekly?: Record<string, [string, string][]>;
  exceptions?: { date: string; closed?: boolean; hours?: [string, string][] }[];
}
export interface Category {
  slug: string;
  label: string;
  kind?: "good" | "service";
  children: Category[];
}
export type Side = "offer" | "request";
export interface Listing {
  id: string;
  member_id: string;
  kind: "good" | "service";
  mode: string;
  category: string;
  title: string;
  description: string;
  site_id: string | null;
  status: string;
  price_minutes: number;
  duration_minutes: number | null;
  area?: Position;
  distance_m?: number;
  created_at: string;
  tags?: string[];
  photos?: string[];
  location?: Position | null;
  deposit_minutes?: number | null;
  capacity?: number | null;
  /** Set on the offers that stand for a depot's object (same id). */
  depot_item_id?: string | null;
  /** Set on a partner installation's listing: the installation where it lives. */
  partner_url?: string;
}
export interface NearbyListing {
  id: string;
  side: Side;
  member_id?: string;
  kind: string;
  mode: string;
  category: string;
  title: string;
  status?: string;
  distance_m: number;
  area?: Position;
}
export interface Match {
  id: string;
  offer_id: string;
  request_id: string;
  score: number;
  distance_m: number;
  status: string;
}
export interface ExchangeEvent {
  state: string;
  at: string;
  actor_id?: string | null;
  note?: string | null;
  reason?: string | null;
}
export interface Exchange {
  id: string;
  state: string;
  provider_id: string;
  receiver_id: string;
  proposer_id?: string;
  minutes: number;
  offer_id: string | null;
  request_id: string | null;
  site_id: string | null;
  scheduled_at: string | null;
  reason: string | null;
  message?: string | null;
  confirmations?: { provider: boolean; receiver: boolean; staff: boolean };
  history?: ExchangeEvent[];
  mode?: "give" | "lend" | "swap" | "service";
  starts_at?: string | null;
  due_at?: string | null;
  deposit_minutes?: number;
  deposit_state?: "none" | "sent" | "held" | "refused" | "voided" | "posted";
  renewals?: number;
  max_renewals?: number;
  requested_due_at?: string | null;
  returns?: { provider: boolean; receiver: boolean; staff: boolean };
  given_offer_id?: string | null;
  no_show_member_id?: string | null;
  /** With a member of a partner installation: that installation (where the exchange lives, on its mirror). */
  partner_url?: string | null;
  created_at?: string;
  proposed_at?: string;
  updated_at?: string;
}
export interface Message {
  id: string;
  author_id: string;
  acting_staff_id?: string | null;
  body: string;
  created_at: string;
}
export interface Account {
  member_id: string;
  balance_minutes: number;
  pending_debit_minutes: number;
  pending_credit_minutes: number;
  available_minutes: number;
  min_balance: number;
  max_balance: number;
}
export interface Entry {
  transfer_id: string;
  amount_minutes: number;
  balance_after_minutes: number;
  kind: string;
  ref: string | null;
  counterparty: string | null;
  at: string;
}
export interface Notification {
  id: string;
  seq?: number;
  type: string;
  created_at: string;
  read?: boolean;
  exchange_id?: string;
  data: Record<string, unknown>;
}
export interface Item {
  id: string;
  site_id: string;
  category: string;
  title: string | null;
  description?: string;
  condition: string;
  weight_g: number;
  mode: "give" | "lend";
  status: string;
  reserved_until?: string | null;
  reserved_by_member_id?: string | null;
  due_at?: string | null;
  dropped_by_member_id?: string | null;
  photos?: string[];
}
export interface Desk {
  site_id: string;
  due_today: Exchange[];
  disputed: Exchange[];
  overdue: Exchange[];
  items_to_hand_out: Item[];
  items_to_redirect?: Item[];
  overdue_loans?: Item[];
}
/** A count of people or of their acts, "<5" when below 5 (so no one can be re-identified). */
export type SmallCount = number | "<5";
export interface Stats {
  exchanges_completed: SmallCount;
  minutes_exchanged: number;
  active_members: SmallCount;
  items_in: number;
  items_reused: number;
  kg_reused: number;
  kg_redirected: number;
  loans: SmallCount;
}
/** A busy range of an object's booking calendar (GET /v1/offers/{id}/calendar). */
export interface BusyRange {
  from: string;
  to: string;
  exchange_id: string;
  state: string;
}
export interface OfferCalendar {
  offer_id: string;
  from: string;
  to: string;
  busy: BusyRange[];
}
/** A member registered at the desk, without e-mail (POST /v1/members). */
export interface DeskMember {
  id: string;
  member_number: number;
  display_name: string;
  community_id: string;
  home_site_id: string;
  phone: string | null;
  status: string;
}
