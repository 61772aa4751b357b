// The shapes of a decoded reply, shared by the two decoders (codec.ts and fast-decode.ts).

/** One answer, normalised to a string: A/AAAA the address, names without the trailing dot, MX `"10 mx.example"`,
 * TXT its strings concatenated, SOA `"mname rname serial refresh retry expire minimum"`. */
export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export interface DecodedReply {
  rcode: string;
  authoritative: boolean;
  answers: DnsAnswer[];
  authorities: DnsAnswer[];
}
