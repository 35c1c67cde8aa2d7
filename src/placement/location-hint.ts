import { z } from "zod";

/**
 * Where a new booking room is placed: near the person whose request creates it (the customer, who
 * will be in every message of it), from Cloudflare's view of that request. Durable Objects take
 * these hints: wnam, enam, sam, weur, eeur, apac, oc, afr, me.
 */
export type LocationHint = "wnam" | "enam" | "sam" | "weur" | "eeur" | "apac" | "oc" | "afr" | "me";

/** What the choice reads of `request.cf` (absent locally and in tests; longitude is a string there). */
const RequestPlace = z.object({
  continent: z.string().optional(),
  country: z.string().optional(),
  longitude: z.coerce.number().optional().catch(undefined),
});
type RequestPlace = z.infer<typeof RequestPlace>;

/** Countries Cloudflare files under Asia that the `me` region serves better. */
const MIDDLE_EAST = new Set([
  "AE",
  "BH",
  "IL",
  "IQ",
  "IR",
  "JO",
  "KW",
  "LB",
  "OM",
  "PS",
  "QA",
  "SA",
  "SY",
  "TR",
  "YE",
]);
const IN_EU_JURISDICTION: ReadonlySet<LocationHint> = new Set(["weur", "eeur"]);

/**
 * The hint for a room created by a request with this `request.cf`, or undefined (let Cloudflare
 * choose). Under an EU jurisdiction only the EU regions may be hinted: elsewhere the object stays
 * where the jurisdiction puts it.
 */
export function locationHintFor(cf: unknown, jurisdiction: "eu" | null): LocationHint | undefined {
  const place = RequestPlace.safeParse(cf ?? {});
  const hint = place.success ? regionOf(place.data) : undefined;
  if (jurisdiction === "eu" && hint && !IN_EU_JURISDICTION.has(hint)) return undefined;
  return hint;
}

function regionOf(place: RequestPlace): LocationHint | undefined {
  const longitude = place.longitude;
  const known = longitude !== undefined && Number.isFinite(longitude);
  switch (place.continent) {
    case "NA":
      // The Rockies split the two North American regions.
      return known && longitude < -100 ? "wnam" : "enam";
    case "SA":
      return "sam";
    case "EU":
      return known && longitude >= 20 ? "eeur" : "weur";
    case "AF":
      return "afr";
    case "OC":
      return "oc";
    case "AS":
      return place.country && MIDDLE_EAST.has(place.country) ? "me" : "apac";
    default:
      return undefined;
  }
}
