#include "protocol/domain_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <capnp/serialize-packed.h>
#include <kj/exception.h>
#include <kj/io.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/codec.h"
#include "protocol/domain.capnp.h"
#include "topology/division_code.h"

namespace lifeline::protocol {
namespace {

constexpr size_t kWordBytes = sizeof(capnp::word);
// Each pointer a decoder follows is charged to the traversal limit; ours
// follows each one once, so a valid message costs at most its own size. The
// margin is slack, and the bound still stops shared pointers and lists of
// empty structs from turning a small message into a huge value.
constexpr uint64_t kTraversalWordsPerWord = 4;
// A valid sync nests 6 deep (sync, household, members, list, member, text).
constexpr int kDomainNestingLimit = 16;
// Longest Cap'n Proto error text kept in a refusal (one log line).
constexpr size_t kMaxReasonChars = 160;
constexpr uint32_t kMaxDisabilityGrade = 4;
constexpr uint32_t kMinLevel = 1;
constexpr uint32_t kMaxLevel = 5;

// ---- Encoding ---------------------------------------------------------------

capnp::Text::Reader text(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

void write_id(const RecordId& id, schema::RecordId::Builder out) {
  out.setOrigin(id.origin);
  out.setSeq(id.seq);
}

void write_stamp(const Stamp& stamp, schema::Stamp::Builder out) {
  out.setHlc(stamp.hlc);
  out.setNode(stamp.node);
}

void write_text_list(const std::vector<std::string>& items, capnp::List<capnp::Text>::Builder out) {
  for (unsigned i = 0; i < items.size(); ++i) out.set(i, text(items[i]));
}

void write_member(const Member& m, schema::Member::Builder out) {
  out.setIdNumber(text(m.id_number));
  out.setName(text(m.name));
  out.setRelation(text(m.relation));
  out.setDisabilityGrade(m.disability_grade);
  out.setDisabilityKind(text(m.disability_kind));
  out.setMajorIllness(m.major_illness);
  out.setSinglePersonCoverage(m.single_person_coverage);
}

void write_lww_text(const Lww<std::string>& lww, schema::LwwText::Builder out) {
  out.setValue(text(lww.value));
  write_stamp(lww.stamp, out.initStamp());
}

void write_household(const Household& h, schema::Household::Builder out) {
  write_id(h.id, out.initId());
  auto village = out.initVillage();
  village.setValue(h.village.value);
  write_stamp(h.village.stamp, village.initStamp());
  write_lww_text(h.category, out.initCategory());
  auto income = out.initIncomeFen();
  income.setValue(h.income_fen.value);
  write_stamp(h.income_fen.stamp, income.initStamp());
  write_lww_text(h.phone, out.initPhone());
  write_lww_text(h.address, out.initAddress());
  write_lww_text(h.source, out.initSource());
  auto members = out.initMembers();
  auto list = members.initValue(static_cast<unsigned>(h.members.value.size()));
  for (unsigned i = 0; i < list.size(); ++i) write_member(h.members.value[i], list[i]);
  write_stamp(h.members.stamp, members.initStamp());
}

void write_event(const DeptEvent& e, schema::DeptEvent::Builder out) {
  out.setDepartment(text(e.department));
  out.setRecordId(text(e.record_id));
  out.setIdNumber(text(e.id_number));
  out.setIndicator(text(e.indicator));
  out.setEventDate(e.event_date);
  out.setImportedAt(e.imported_at);
  out.setHlc(e.hlc);
}

void write_indicator(const AlertIndicator& indicator, schema::AlertIndicator::Builder out) {
  out.setCode(text(indicator.code));
  out.setPoints(indicator.points);
  out.setEventDate(indicator.event_date);
}

void write_alert(const Alert& a, schema::Alert::Builder out) {
  write_id(a.id, out.initId());
  write_id(a.household, out.initHousehold());
  out.setGeneration(a.generation);
  auto indicators = out.initIndicators(static_cast<unsigned>(a.indicators.size()));
  for (unsigned i = 0; i < indicators.size(); ++i) write_indicator(a.indicators[i], indicators[i]);
  out.setScore(a.score);
  out.setLevel(a.level);
  out.setIssuedDate(a.issued_date);
  out.setDueDate(a.due_date);
  out.setState(static_cast<schema::AlertState>(static_cast<uint16_t>(a.state)));
  out.setIssuedHlc(a.issued_hlc);
  out.setDeliveredAtUs(a.delivered_at_us);
  out.setAcceptedAtUs(a.accepted_at_us);
  out.setVerifiedAtUs(a.verified_at_us);
  out.setClosedAtUs(a.closed_at_us);
  out.setAcceptedBy(text(a.accepted_by));
  auto aliases = out.initAliases(static_cast<unsigned>(a.aliases.size()));
  for (unsigned i = 0; i < aliases.size(); ++i) write_id(a.aliases[i], aliases[i]);
  out.setEscalatedAtUs(a.escalated_at_us);
}

void write_feedback(const Feedback& f, schema::Feedback::Builder out) {
  write_id(f.alert, out.initAlert());
  out.setVisitDate(f.visit_date);
  out.setMethod(text(f.method));
  out.setVisitor(text(f.visitor));
  out.setTruthful(f.truthful);
  out.setFindings(text(f.findings));
  write_text_list(f.needs, out.initNeeds(static_cast<unsigned>(f.needs.size())));
  out.setDecision(text(f.decision));
  out.setReferral(text(f.referral));
}

void write_history(const HistoryEntry& e, schema::HistoryEntry::Builder out) {
  write_id(e.id, out.initId());
  write_id(e.household, out.initHousehold());
  out.setHlc(e.hlc);
  out.setKind(text(e.kind));
  write_id(e.alert, out.initAlert());
  out.setText(text(e.text));
  out.setHasFeedback(e.has_feedback);
  // Most entries carry no feedback: leave the pointer null, which reads back
  // as the default Feedback (the schema's defaults are the C++ ones).
  if (e.has_feedback || e.feedback != Feedback{}) write_feedback(e.feedback, out.initFeedback());
}

void write_sync(const HouseholdSync& s, schema::HouseholdSync::Builder out) {
  write_household(s.household, out.initHousehold());
  auto alerts = out.initAlerts(static_cast<unsigned>(s.alerts.size()));
  for (unsigned i = 0; i < alerts.size(); ++i) write_alert(s.alerts[i], alerts[i]);
  auto history = out.initHistory(static_cast<unsigned>(s.history.size()));
  for (unsigned i = 0; i < history.size(); ++i) write_history(s.history[i], history[i]);
  auto events = out.initEvents(static_cast<unsigned>(s.events.size()));
  for (unsigned i = 0; i < events.size(); ++i) write_event(s.events[i], events[i]);
}

constexpr unsigned kFirstSegmentWords = 64;

// Builds one message of root type S with `write` and returns its standard
// (unpacked) serialization.
template <typename S, typename T>
std::string encode_root(const T& value, void (*write)(const T&, typename S::Builder)) {
  // A small first segment: the default (1,024 words, zeroed by calloc) cost
  // more than the encoding itself for these values of a few hundred bytes.
  capnp::MallocMessageBuilder message(kFirstSegmentWords);
  write(value, message.initRoot<S>());
  std::string out(capnp::computeSerializedSizeInWords(message) * kWordBytes, '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, message);
  return out;
}

// ---- Decoding ---------------------------------------------------------------

Status refuse(std::string reason) { return Status::invalid_argument(std::move(reason)); }

// The first problem met while reading one struct, prefixed with the field it
// was found in. Later fields are still read (harmless: the traversal limit
// bounds the work) so that readers stay flat lists of fields.
class Check {
 public:
  void field(const char* name, const Status& status) {
    if (!status && error_.empty()) error_ = std::string(name) + ": " + status.message();
  }
  void fail(std::string reason) {
    if (error_.empty()) error_ = std::move(reason);
  }
  bool ok() const { return error_.empty(); }
  Status status() const { return ok() ? Status::ok() : refuse(error_); }

 private:
  std::string error_;  // empty while nothing is wrong
};

std::string id_text(const RecordId& id) {
  return "(" + std::to_string(id.origin) + ", " + std::to_string(id.seq) + ")";
}

Status read_text(capnp::Text::Reader in, std::string& out) {
  if (in.size() > kMaxTextBytes) {
    return refuse(std::to_string(in.size()) + " bytes exceed the limit of " + std::to_string(kMaxTextBytes));
  }
  out.assign(in.cStr(), in.size());
  return Status::ok();
}

// A list of at most `limit` items, each read by `read_item`, which returns a
// Status.
template <typename ListReader, typename T, typename ReadItem>
Status read_list(ListReader in, size_t limit, std::vector<T>& out, ReadItem read_item) {
  if (in.size() > limit) {
    return refuse(std::to_string(in.size()) + " items exceed the limit of " + std::to_string(limit));
  }
  out.resize(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    Status status = read_item(in[i], out[i]);
    if (!status) return refuse("item " + std::to_string(i) + ": " + status.message());
  }
  return Status::ok();
}

// Absent (0, 0), or a valid id whose origin is a division code.
Status read_id(schema::RecordId::Reader in, RecordId& out) {
  out = RecordId{in.getOrigin(), in.getSeq()};
  if (out == RecordId{}) return Status::ok();
  if (!out.valid()) return refuse("id " + id_text(out) + " is half set");
  if (!topology::DivisionCode::or_invalid(out.origin).valid()) {
    return refuse("id " + id_text(out) + ": origin is not a division code");
  }
  return Status::ok();
}

// As read_id, and the id must be set.
Status read_set_id(schema::RecordId::Reader in, RecordId& out) {
  Status status = read_id(in, out);
  if (status && !out.valid()) return refuse("id is not set");
  return status;
}

Stamp read_stamp(schema::Stamp::Reader in) { return Stamp{in.getHlc(), in.getNode()}; }

Status read_member(schema::Member::Reader in, Member& out) {
  Check check;
  check.field("id_number", read_text(in.getIdNumber(), out.id_number));
  check.field("name", read_text(in.getName(), out.name));
  check.field("relation", read_text(in.getRelation(), out.relation));
  out.disability_grade = in.getDisabilityGrade();
  if (out.disability_grade > kMaxDisabilityGrade) {
    check.fail("disability_grade " + std::to_string(out.disability_grade) + " is not 0..4");
  }
  check.field("disability_kind", read_text(in.getDisabilityKind(), out.disability_kind));
  out.major_illness = in.getMajorIllness();
  out.single_person_coverage = in.getSinglePersonCoverage();
  return check.status();
}

Status read_lww_text(schema::LwwText::Reader in, Lww<std::string>& out) {
  out.stamp = read_stamp(in.getStamp());
  return read_text(in.getValue(), out.value);
}

Status read_members(schema::LwwMembers::Reader in, Lww<std::vector<Member>>& out) {
  out.stamp = read_stamp(in.getStamp());
  return read_list(in.getValue(), kMaxMembers, out.value, read_member);
}

Status read_household_header(schema::Household::Reader in, Household& out) {
  Check check;
  check.field("id", read_id(in.getId(), out.id));
  auto village = in.getVillage();
  out.village = {village.getValue(), read_stamp(village.getStamp())};
  return check.status();
}

Status read_household(schema::Household::Reader in, Household& out) {
  Status header = read_household_header(in, out);
  if (!header) return header;  // the first field's problem, as Check would report it
  Check check;
  check.field("category", read_lww_text(in.getCategory(), out.category));
  auto income = in.getIncomeFen();
  out.income_fen = {income.getValue(), read_stamp(income.getStamp())};
  check.field("phone", read_lww_text(in.getPhone(), out.phone));
  check.field("address", read_lww_text(in.getAddress(), out.address));
  check.field("source", read_lww_text(in.getSource(), out.source));
  check.field("members", read_members(in.getMembers(), out.members));
  return check.status();
}

// The text fields identify the event and what it means: none may be empty.
Status read_event_text(capnp::Text::Reader in, std::string& out) {
  Status status = read_text(in, out);
  if (status && out.empty()) return refuse("empty");
  return status;
}

Status read_event(schema::DeptEvent::Reader in, DeptEvent& out) {
  Check check;
  check.field("department", read_event_text(in.getDepartment(), out.department));
  check.field("record_id", read_event_text(in.getRecordId(), out.record_id));
  check.field("id_number", read_event_text(in.getIdNumber(), out.id_number));
  check.field("indicator", read_event_text(in.getIndicator(), out.indicator));
  out.event_date = in.getEventDate();
  if (out.event_date == 0) check.fail("event_date: not set");
  out.imported_at = in.getImportedAt();
  out.hlc = in.getHlc();
  return check.status();
}

Status read_indicator(schema::AlertIndicator::Reader in, AlertIndicator& out) {
  out.points = in.getPoints();
  out.event_date = in.getEventDate();
  Check check;
  check.field("code", read_text(in.getCode(), out.code));
  return check.status();
}

Status read_state(schema::AlertState in, AlertState& out) {
  const auto raw = static_cast<uint16_t>(in);
  if (raw < static_cast<uint16_t>(AlertState::kIssued) || raw > static_cast<uint16_t>(AlertState::kClosed)) {
    return refuse(std::to_string(raw) + " is not 1..5");
  }
  out = static_cast<AlertState>(raw);
  return Status::ok();
}

Status read_level(uint32_t in, uint32_t& out) {
  out = in;
  if (in < kMinLevel || in > kMaxLevel) return refuse(std::to_string(in) + " is not 1..5");
  return Status::ok();
}

Status read_alert(schema::Alert::Reader in, Alert& out) {
  Check check;
  check.field("id", read_id(in.getId(), out.id));
  check.field("household", read_id(in.getHousehold(), out.household));
  out.generation = in.getGeneration();
  check.field("indicators", read_list(in.getIndicators(), kMaxListItems, out.indicators, read_indicator));
  out.score = in.getScore();
  check.field("level", read_level(in.getLevel(), out.level));
  out.issued_date = in.getIssuedDate();
  out.due_date = in.getDueDate();
  check.field("state", read_state(in.getState(), out.state));
  out.issued_hlc = in.getIssuedHlc();
  out.delivered_at_us = in.getDeliveredAtUs();
  out.accepted_at_us = in.getAcceptedAtUs();
  out.verified_at_us = in.getVerifiedAtUs();
  out.closed_at_us = in.getClosedAtUs();
  check.field("accepted_by", read_text(in.getAcceptedBy(), out.accepted_by));
  check.field("aliases", read_list(in.getAliases(), kMaxListItems, out.aliases, read_set_id));
  out.escalated_at_us = in.getEscalatedAtUs();
  return check.status();
}

Status read_feedback(schema::Feedback::Reader in, Feedback& out) {
  Check check;
  check.field("alert", read_id(in.getAlert(), out.alert));
  out.visit_date = in.getVisitDate();
  check.field("method", read_text(in.getMethod(), out.method));
  check.field("visitor", read_text(in.getVisitor(), out.visitor));
  out.truthful = in.getTruthful();
  check.field("findings", read_text(in.getFindings(), out.findings));
  check.field("needs", read_list(in.getNeeds(), kMaxListItems, out.needs, read_text));
  check.field("decision", read_text(in.getDecision(), out.decision));
  check.field("referral", read_text(in.getReferral(), out.referral));
  return check.status();
}

Status read_history(schema::HistoryEntry::Reader in, HistoryEntry& out) {
  Check check;
  check.field("id", read_id(in.getId(), out.id));
  check.field("household", read_id(in.getHousehold(), out.household));
  out.hlc = in.getHlc();
  check.field("kind", read_text(in.getKind(), out.kind));
  check.field("alert", read_id(in.getAlert(), out.alert));
  check.field("text", read_text(in.getText(), out.text));
  out.has_feedback = in.getHasFeedback();
  check.field("feedback", read_feedback(in.getFeedback(), out.feedback));
  return check.status();
}

// A sync's records are keyed by their ids and all belong to its household.
Status check_belongs(const RecordId& id, const RecordId& owner, const RecordId& household) {
  if (!id.valid()) return refuse("id is not set");
  if (owner != household) {
    return refuse("household " + id_text(owner) + " is not the sync's household " + id_text(household));
  }
  return Status::ok();
}

Status check_sync(const HouseholdSync& s) {
  const RecordId& household = s.household.id;
  if (!household.valid()) return refuse("household: id is not set");
  for (size_t i = 0; i < s.alerts.size(); ++i) {
    Status status = check_belongs(s.alerts[i].id, s.alerts[i].household, household);
    if (!status) return refuse("alerts: item " + std::to_string(i) + ": " + status.message());
  }
  for (size_t i = 0; i < s.history.size(); ++i) {
    Status status = check_belongs(s.history[i].id, s.history[i].household, household);
    if (!status) return refuse("history: item " + std::to_string(i) + ": " + status.message());
  }
  return Status::ok();
}

Status read_sync(schema::HouseholdSync::Reader in, HouseholdSync& out) {
  Check check;
  check.field("household", read_household(in.getHousehold(), out.household));
  check.field("alerts", read_list(in.getAlerts(), kMaxListItems, out.alerts, read_alert));
  check.field("history", read_list(in.getHistory(), kMaxListItems, out.history, read_history));
  check.field("events", read_list(in.getEvents(), kMaxListItems, out.events, read_event));
  if (!check.ok()) return check.status();
  return check_sync(out);
}

std::string short_reason(const kj::Exception& e) {
  std::string reason(e.getDescription().cStr());
  if (reason.size() > kMaxReasonChars) reason.resize(kMaxReasonChars);
  return reason;
}

// Parses word-aligned bytes that stay alive for the call. Cap'n Proto
// reports malformed input as kj::Exception; it is caught here and nowhere
// else, so none escapes the codec.
template <typename S, typename T>
Result<T> decode_words(kj::ArrayPtr<const capnp::word> words, Status (*read)(typename S::Reader, T&)) {
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * kTraversalWordsPerWord;
    options.nestingLimit = kDomainNestingLimit;
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) return refuse("bytes after the end of the message");
    T value;
    if (Status status = read(reader.getRoot<S>(), value); !status) return status;
    return value;
  } catch (const kj::Exception& e) {
    return refuse("capnp: " + short_reason(e));
  } catch (const std::exception& e) {
    return refuse(e.what());
  } catch (...) {
    return refuse("unknown exception");
  }
}

// Decodes bytes at any address: in place when word-aligned, else from an
// aligned copy (store values and ZeroMQ buffers need not be aligned; Cap'n
// Proto requires it). The size is a whole number of words.
template <typename S, typename T>
Result<T> decode_any_alignment(std::string_view bytes, Status (*read)(typename S::Reader, T&)) {
  const size_t word_count = bytes.size() / kWordBytes;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    return decode_words<S, T>(kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), word_count), read);
  }
  kj::Array<capnp::word> copy = kj::heapArray<capnp::word>(word_count);
  std::memcpy(copy.begin(), bytes.data(), bytes.size());
  return decode_words<S, T>(copy.asPtr(), read);
}

// Checks the size, then decodes a root of type S. `what` names the value in
// every refusal.
template <typename S, typename T>
Result<T> decode_root(std::string_view bytes, const char* what, Status (*read)(typename S::Reader, T&)) {
  auto fail = [what](const std::string& reason) -> Status { return refuse(std::string(what) + ": " + reason); };
  if (bytes.empty()) return fail("empty");
  const std::string size = std::to_string(bytes.size()) + " bytes";
  if (bytes.size() > kMaxDomainBytes) return fail(size + " exceed the limit of " + std::to_string(kMaxDomainBytes));
  if (bytes.size() % kWordBytes != 0) return fail(size + " are not a whole number of words");
  Result<T> result = decode_any_alignment<S, T>(bytes, read);
  if (!result) return fail(result.status().message());
  return result;
}

}  // namespace

std::string encode_household(const Household& h) { return encode_root<schema::Household>(h, write_household); }
std::string encode_alert(const Alert& a) { return encode_root<schema::Alert>(a, write_alert); }
std::string encode_history(const HistoryEntry& e) { return encode_root<schema::HistoryEntry>(e, write_history); }
std::string encode_event(const DeptEvent& e) { return encode_root<schema::DeptEvent>(e, write_event); }
std::string encode_sync(const HouseholdSync& s) { return encode_root<schema::HouseholdSync>(s, write_sync); }

Result<Household> decode_household(std::string_view bytes) {
  return decode_root<schema::Household>(bytes, "household", read_household);
}
Result<Household> decode_household_header(std::string_view bytes) {
  return decode_root<schema::Household>(bytes, "household", read_household_header);
}
Result<Alert> decode_alert(std::string_view bytes) { return decode_root<schema::Alert>(bytes, "alert", read_alert); }
Result<HistoryEntry> decode_history(std::string_view bytes) {
  return decode_root<schema::HistoryEntry>(bytes, "history entry", read_history);
}
Result<DeptEvent> decode_event(std::string_view bytes) {
  return decode_root<schema::DeptEvent>(bytes, "event", read_event);
}
Result<HouseholdSync> decode_sync(std::string_view bytes) {
  return decode_root<schema::HouseholdSync>(bytes, "household sync", read_sync);
}

void append_to_sync_batch(std::string& batch, std::string_view encoded_sync) {
  char length[8];
  const uint64_t n = encoded_sync.size();
  std::memcpy(length, &n, 8);  // little-endian hosts only (as everywhere in the store)
  batch.append(length, 8);
  batch.append(encoded_sync);
}

std::string seal_sync_batch(std::string_view items) {
  // Packing writes at most 10 bytes per word (a tag, 8 bytes, a run count).
  // The scratch space is left uninitialised: zeroing it cost more than the
  // packing.
  const size_t capacity = items.size() / 8 * 10 + 16;
  std::unique_ptr<kj::byte[]> scratch(new kj::byte[capacity]);
  kj::ArrayOutputStream array(kj::arrayPtr(scratch.get(), capacity));
  {
    capnp::_::PackedOutputStream packed(array);
    packed.write(items.data(), items.size());
  }
  const kj::ArrayPtr<kj::byte> written = array.getArray();
  std::string out;
  out.reserve(8 + written.size());
  const uint64_t n = items.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out.append(reinterpret_cast<const char*>(written.begin()), written.size());
  return out;
}

Result<std::string> open_sync_batch(std::string_view payload) {
  auto fail = [](const std::string& reason) -> Status { return refuse("household sync batch: " + reason); };
  if (payload.size() < 8) return fail("shorter than its length");
  uint64_t n = 0;
  std::memcpy(&n, payload.data(), 8);
  if (n == 0 || n % kWordBytes != 0 || n > kMaxSyncBatchBytes)
    return fail("unpacked length " + std::to_string(n) + " is not a whole number of words up to " +
                std::to_string(kMaxSyncBatchBytes));
  std::string items(n, '\0');
  try {
    kj::ArrayInputStream array(kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()) + 8, payload.size() - 8));
    capnp::_::PackedInputStream packed(array);
    packed.read(items.data(), items.size());
    if (array.tryGetReadBuffer().size() != 0) return fail("bytes after the packed items");
  } catch (const kj::Exception& e) {
    return fail("packing: " + short_reason(e));
  }
  return items;
}

namespace {

// One compression and one decompression context per thread, kept: a
// context's tables cost more to set up than a batch takes to compress.
struct ZstdContexts {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d{ZSTD_createDCtx(), ZSTD_freeDCtx};
};
ZstdContexts& zstd_contexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}

}  // namespace

std::optional<std::string> compress_sync_batch(std::string_view sealed) {
  ZSTD_CCtx* c = zstd_contexts().c.get();
  if (c == nullptr) return std::nullopt;
  std::string out(ZSTD_compressBound(sealed.size()), '\0');
  const size_t n = ZSTD_compressCCtx(c, out.data(), out.size(), sealed.data(), sealed.size(), 1);
  if (ZSTD_isError(n) || n >= sealed.size()) return std::nullopt;
  out.resize(n);
  return out;
}

Result<std::string> expand_sync_batch(std::string_view compressed) {
  auto fail = [](const std::string& reason) -> Status { return refuse("compressed household sync batch: " + reason); };
  const unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return fail("not a zstd frame");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) return fail("the frame does not state its size");
  if (size == 0 || size > kMaxPayloadBytes)
    return fail("stated size " + std::to_string(size) + " is outside 1.." + std::to_string(kMaxPayloadBytes));
  const size_t frame = ZSTD_findFrameCompressedSize(compressed.data(), compressed.size());
  if (ZSTD_isError(frame)) return fail(std::string("truncated frame: ") + ZSTD_getErrorName(frame));
  if (frame != compressed.size()) return fail(std::to_string(compressed.size() - frame) + " bytes after the frame");
  ZSTD_DCtx* d = zstd_contexts().d.get();
  if (d == nullptr) return Status::unavailable("no zstd decompression context");
  std::string out(size, '\0');
  const size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n)) return fail(ZSTD_getErrorName(n));
  if (n != size) return fail("decompressed to " + std::to_string(n) + " bytes, not the stated " + std::to_string(size));
  return out;
}

Result<std::vector<std::string_view>> split_sync_batch(std::string_view bytes) {
  auto fail = [](const std::string& reason) -> Status { return refuse("household sync batch: " + reason); };
  if (bytes.empty()) return fail("empty");
  if (bytes.size() > kMaxSyncBatchBytes)
    return fail(std::to_string(bytes.size()) + " bytes exceed the limit of " + std::to_string(kMaxSyncBatchBytes));
  std::vector<std::string_view> items;
  for (size_t at = 0; at < bytes.size();) {
    if (items.size() >= kMaxListItems) return fail("more than " + std::to_string(kMaxListItems) + " items");
    if (bytes.size() - at < 8) return fail("truncated length at byte " + std::to_string(at));
    uint64_t n = 0;
    std::memcpy(&n, bytes.data() + at, 8);
    at += 8;
    if (n == 0 || n % kWordBytes != 0 || n > bytes.size() - at)
      return fail("item " + std::to_string(items.size()) + " has a bad length " + std::to_string(n));
    items.push_back(bytes.substr(at, n));
    at += n;
  }
  return items;
}

}  // namespace lifeline::protocol
