# The monitoring domain (protocol/domain.h) as Cap'n Proto: households,
# department events, alerts, verification feedback, case history, and the
# household sync that carries them between nodes. The same bytes are store
# values and link payloads. Encoding and decoding (with the limits for
# untrusted bytes) are in protocol/domain_codec.h; protocol/README.md has the
# rules for changing a schema (never renumber or reuse a field).
#
# Conventions:
# - Division codes are the 12-digit statistical codes as numbers
#   (441302001001); 0 means none.
# - Dates are integers YYYYMMDD (20261123); 0 means none.
# - hlc fields are hybrid logical clocks: (wall ms << 16) | logical counter.
# - Text is UTF-8, at most 4096 bytes per field; lists hold at most 16384
#   items (households at most 64 members).
# - Defaults equal the C++ defaults, so an absent struct reads as the
#   default value.
@0xb4f6ecba449a4177;

$import "/capnp/c++.capnp".namespace("lifeline::protocol::schema");

# The order of last-writer-wins registers: hlc first, node breaks ties.
# Both 0: never written.
struct Stamp {
  hlc @0 :UInt64;   # hybrid logical clock of the write
  node @1 :UInt64;  # division code of the node that wrote it
}

# An id made where the record was created. Both 0: none; otherwise origin is
# a valid division code and seq ≥ 1.
struct RecordId {
  origin @0 :UInt64;  # division code of the creating node
  seq @1 :UInt64;     # 1, 2, ... per origin and kind of record
}

# Last-writer-wins registers of a household, one struct per value type.

struct LwwText {
  value @0 :Text;    # the register's value
  stamp @1 :Stamp;   # when and where it was written
}

struct LwwU64 {
  value @0 :UInt64;  # the register's value
  stamp @1 :Stamp;   # when and where it was written
}

struct LwwI64 {
  value @0 :Int64;   # the register's value
  stamp @1 :Stamp;   # when and where it was written
}

struct LwwMembers {
  value @0 :List(Member);  # the whole member list is one register; at most 64
  stamp @1 :Stamp;         # when and where it was written
}

# A member of a household. Sex and birth date follow from the ID number.
struct Member {
  idNumber @0 :Text;              # GB 11643 resident ID number, 18 characters
  name @1 :Text;                  # full name
  relation @2 :Text;              # head, spouse, child, parent, grandparent, grandchild, sibling, other
  disabilityGrade @3 :UInt32;     # 0 none, 1 (most severe) .. 4; larger values are refused
  disabilityKind @4 :Text;        # "", physical, visual, hearing, speech, intellectual, mental, multiple
  majorIllness @5 :Bool;          # has a listed major illness (重特大疾病)
  singlePersonCoverage @6 :Bool;  # covered as a single person (单人保)
}

# A monitored household (监测对象). Every field but the id is a register.
struct Household {
  id @0 :RecordId;         # household id (text form H-<origin>-<seq>)
  village @1 :LwwU64;      # division code of the home village; a move changes it
  category @2 :LwwText;    # minimum_living, destitute, marginal, expenditure_hardship, other
  incomeFen @3 :LwwI64;    # per-capita monthly income in fen (0.01 yuan)
  phone @4 :LwwText;       # contact phone number
  address @5 :LwwText;     # postal address
  source @6 :LwwText;      # active_discovery or application
  members @7 :LwwMembers;  # the members, in the order registered
}

# One department record (部门数据比对) as imported. (department, recordId)
# identifies it: it applies once, ever, at any node. No text field is empty
# and eventDate is set.
struct DeptEvent {
  department @0 :Text;   # source department, e.g. medical_insurance
  recordId @1 :Text;     # the department's own id of the record
  idNumber @2 :Text;     # ID number of the person it concerns
  indicator @3 :Text;    # indicator code of the policy, e.g. serious_illness
  eventDate @4 :UInt32;  # date of the event, YYYYMMDD
  importedAt @5 :UInt64; # division code of the node that imported it
  hlc @6 :UInt64;        # hybrid logical clock of the import
}

# An alert's progress; the C++ AlertState has the same numbers. Any value
# outside issued .. closed is refused.
enum AlertState {
  unset @0;      # never valid; the numbering starts at 1 as in C++
  issued @1;     # created by the scoring node
  delivered @2;  # reached the responsible township
  accepted @3;   # an operator took it on
  verified @4;   # feedback recorded
  closed @5;     # finished
}

# One indicator that contributed to an alert.
struct AlertIndicator {
  code @0 :Text;         # indicator code of the policy
  points @1 :UInt32;     # its points when scored
  eventDate @2 :UInt32;  # the latest event date seen for it, YYYYMMDD
}

# A warning (预警信息). It merges as a join-semilattice (node/core).
struct Alert {
  id @0 :RecordId;                       # alert id (text form A-<origin>-<seq>)
  household @1 :RecordId;                # the household it concerns
  generation @2 :UInt32;                 # 1 + the highest generation known for the household when issued
  indicators @3 :List(AlertIndicator);   # sorted by code, each once
  score @4 :UInt32;                      # sum of the indicators' points
  level @5 :UInt32 = 5;                  # 1 (red, most severe) .. 4 (blue), 5 green; others refused
  issuedDate @6 :UInt32;                 # Asia/Shanghai date of issue, YYYYMMDD
  dueDate @7 :UInt32;                    # day of the deadline (ends 23:59:59 Asia/Shanghai), YYYYMMDD
  state @8 :AlertState = issued;         # progress
  issuedHlc @9 :UInt64;                  # hybrid logical clock of the issue
  deliveredAtUs @10 :Int64;              # wall clock of delivery, Unix µs; 0 = not yet
  acceptedAtUs @11 :Int64;               # wall clock of acceptance, Unix µs; 0 = not yet
  verifiedAtUs @12 :Int64;               # wall clock of verification, Unix µs; 0 = not yet
  closedAtUs @13 :Int64;                 # wall clock of closing, Unix µs; 0 = not yet
  acceptedBy @14 :Text;                  # operator's name or node code
  aliases @15 :List(RecordId);           # ids of alerts merged into this one, sorted; each a valid id
  escalatedAtUs @16 :Int64;              # wall clock of the latest escalation (督办), Unix µs; 0 = none
}

# Verification feedback (核查反馈).
struct Feedback {
  alert @0 :RecordId;       # the alert verified
  visitDate @1 :UInt32;     # date of the visit or call, YYYYMMDD
  method @2 :Text;          # home_visit or phone
  visitor @3 :Text;         # who visited or called
  truthful @4 :Bool = true; # the situation was as reported (情况属实)
  findings @5 :Text;        # what was found
  needs @6 :List(Text);     # basic_living, rehabilitation, care, nursing, psychological, health, financial_aid
  decision @7 :Text;        # include_minimum_living, include_destitute, include_single_person,
                            # temporary_assistance, referral, none_needed, keep_monitoring
  referral @8 :Text;        # medical, education, housing, employment (when decision is referral)
}

# One entry of a household's case history; a grow-only set keyed by id.
struct HistoryEntry {
  id @0 :RecordId;         # (recording node, its sequence)
  household @1 :RecordId;  # the household whose history it is
  hlc @2 :UInt64;          # hybrid logical clock of the event recorded
  kind @3 :Text;           # registered, updated, moved, alert_issued, alert_updated, alert_merged,
                           # delivered, handed_over, accepted, escalated, feedback, closed, application
  alert @4 :RecordId;      # the alert concerned; absent or 0/0 when none
  text @5 :Text;           # a short description, without ID numbers
  hasFeedback @6 :Bool;    # feedback below is meaningful (kind feedback)
  feedback @7 :Feedback;   # absent when it equals the default Feedback
}

# What travels the holder path of one household: its fields, the alerts that
# changed, history entries and events the receiver may lack. Household id,
# alert ids and history ids are valid; every alert and history entry belongs
# to this household.
struct HouseholdSync {
  household @0 :Household;         # the household's current registers
  alerts @1 :List(Alert);          # alerts of this household
  history @2 :List(HistoryEntry);  # history entries of this household
  events @3 :List(DeptEvent);      # department events concerning its members
}
