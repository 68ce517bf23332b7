//! A DNS query answered from kist's names: A records for a known name, an empty answer for
//! its other types (AAAA included), nothing for other names (the caller forwards them); and
//! the error replies (SERVFAIL, NXDOMAIN) the responder gives when it cannot forward.

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};

use super::names::{Lookup, normalize};

/// Docker's TTL for its embedded DNS answers.
const TTL: u32 = 600;

/// The response to `query` if it asks for one of `lookup`'s names; None when it is not a
/// standard query for one (forward it) or cannot be parsed.
pub fn answer(query: &[u8], lookup: &dyn Lookup) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let meta = request.metadata;
    if meta.message_type != MessageType::Query || meta.op_code != OpCode::Query {
        return None;
    }
    let [question] = request.queries.as_slice() else {
        return None;
    };
    let ips = lookup.ipv4(&normalize(&question.name().to_ascii()))?;
    let mut response = reply_to(&request, ResponseCode::NoError);
    response.metadata.authoritative = true;
    if matches!(question.query_type(), RecordType::A | RecordType::ANY) {
        for ip in ips {
            let record = Record::from_rdata(question.name().clone(), TTL, RData::A(A(ip)));
            response.add_answer(record);
        }
    }
    response.to_vec().ok()
}

/// An error reply (SERVFAIL when forwarding failed, NXDOMAIN when there is nowhere to
/// forward), or None when `query` is not a query at all.
pub fn failure(query: &[u8], code: ResponseCode) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    reply_to(&request, code).to_vec().ok()
}

/// A response with the request's id, question and flags, recursion available.
fn reply_to(request: &Message, code: ResponseCode) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata = Metadata::response_from_request(&request.metadata);
    response.metadata.recursion_available = true;
    response.metadata.response_code = code;
    response.add_queries(request.queries.iter().cloned());
    if request.edns.is_some() {
        response.set_edns(Edns::new());
    }
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::Ipv4Addr;

    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    use super::*;
    use crate::dns::Names;

    pub(crate) fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.recursion_desired = true;
        let name = Name::from_ascii(name).expect("test name");
        m.add_query(Query::query(name, kind));
        m.to_vec().expect("encoded")
    }

    pub(crate) fn decode(bytes: &[u8]) -> Message {
        Message::from_vec(bytes).expect("a DNS message")
    }

    pub(crate) fn a_records(m: &Message) -> Vec<Ipv4Addr> {
        m.answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect()
    }

    fn names() -> Names {
        let mut names = Names::new();
        names.insert("web", Ipv4Addr::new(172, 18, 0, 2));
        names.add_domain("mynet");
        names
    }

    #[test]
    fn a_known_name_gets_its_a_record() {
        let q = query("WEB.mynet.", RecordType::A);
        let reply = decode(&answer(&q, &names()).expect("ours"));
        assert_eq!(reply.metadata.id, decode(&q).metadata.id);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative && reply.metadata.recursion_desired);
        assert_eq!(a_records(&reply), [Ipv4Addr::new(172, 18, 0, 2)]);
        assert_eq!(reply.answers[0].ttl, 600);
        assert_eq!(reply.queries.len(), 1);
    }

    #[test]
    fn aaaa_of_a_known_name_is_empty_and_others_are_not_ours() {
        let reply = decode(&answer(&query("web", RecordType::AAAA), &names()).expect("ours"));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.answers.is_empty());
        assert!(answer(&query("example.com.", RecordType::A), &names()).is_none());
        assert!(answer(b"\x00\x01garbage", &names()).is_none());
    }

    #[test]
    fn failures_keep_the_id_and_question() {
        let q = query("example.com.", RecordType::A);
        let reply = decode(&failure(&q, ResponseCode::ServFail).expect("a query"));
        assert_eq!(reply.metadata.id, decode(&q).metadata.id);
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        assert_eq!(reply.queries, decode(&q).queries);
    }
}
