# Link frames between a parent and a child node. One ZeroMQ message part
# carries exactly one Frame, serialized with Cap'n Proto's standard
# (unpacked) framing. See protocol/README.md for sequencing and limits.
@0xe00c204b779c8b5d;

$import "/capnp/c++.capnp".namespace("lifeline::protocol::schema");

struct Frame {
  sender @0 :UInt64;   # division code (12 digits as a number) of the sending node
  ack @1 :UInt64;      # cumulative ack: highest link sequence the sender has committed from the receiver; 0 = none
  union {
    hello @2 :Hello;         # connect / resume request
    data @3 :DataBody;       # a batch of records
    heartbeat @4 :Heartbeat; # liveness and round-trip time
    ackOnly @5 :Void;        # nothing but the ack above
  }
  features @6 :UInt64; # what the sender understands (bits, protocol/README.md); 0 from a sender older than the field
}

struct Hello {
  lastApplied @0 :UInt64;  # highest link sequence the sender has committed from the receiver
  wantReply @1 :Bool;      # the receiver answers with a Hello of its own
}

# Not named Data: a struct of that name would shadow the built-in Data type
# (Record.payload), and the schema language cannot name the built-in then.
struct DataBody @0xaccda512272683cd {  # id of its former name Data, kept
  records @0 :List(Record);  # link sequences strictly increasing
}

struct Record {
  linkSeq @0 :UInt64;      # sequence on this link (1, 2, ...), assigned by the hop that sends it
  origin @1 :UInt64;       # division code of the node that created the message
  originSeq @2 :UInt64;    # 1, 2, ... per (origin, destination) stream; with origin, the global id
  destination @3 :UInt64;  # division code of the node that applies the message
  kind @4 :UInt16;         # message kind (1 = test message)
  hlc @5 :UInt64;          # hybrid logical clock at creation: (wall ms << 16) | logical counter
  payload @6 :Data;        # opaque bytes, bounded by the frame limits
}

struct Heartbeat {
  sentAtUs @0 :UInt64;  # sender's monotonic clock in microseconds
  echo @1 :Bool;        # true in the answer to a ping (sentAtUs echoed unchanged)
}
