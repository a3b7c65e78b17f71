// nenep: command-line client of nenepd.

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tools/cli/cli.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "TLS: the CA (PEM) that signed nenepd's certificate; set, the "
          "connection uses TLS.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "Mutual TLS: this client's certificate (PEM), with --tls_key_file.");
ABSL_FLAG(std::string, tls_key_file, "",
          "Mutual TLS: this client's private key (PEM).");
ABSL_FLAG(std::string, tls_server_name, "",
          "TLS: the name nenepd's certificate must carry (default: the host "
          "of --server).");
ABSL_FLAG(std::string, token_file, "",
          "A file holding a bearer token (its first line), sent with every "
          "call; $NENEP_TOKEN works too.");
ABSL_FLAG(bool, json, false,
          "Machine output: one JSON object per line (protobuf JSON mapping).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(60), "Deadline of each call.");
ABSL_FLAG(std::string, stream, "",
          "append: the stream (default: the events' own); read: read this "
          "stream instead of the whole log.");
ABSL_FLAG(std::string, expected_revision, "",
          "append: any, no_stream, exists or a revision number.");
ABSL_FLAG(std::string, request_id, "",
          "append: request id (default: derived from the input's content).");
ABSL_FLAG(int, batch_size, 1000, "import: events per BatchAppend.");
ABSL_FLAG(std::string, request_id_prefix, "",
          "import: prefix of the derived request ids (default 'import').");
ABSL_FLAG(uint64_t, from, 0,
          "read: first position (or revision with --stream); 0 = the start, "
          "or the end with --backward.");
ABSL_FLAG(bool, backward, false, "read: newest first.");
ABSL_FLAG(int64_t, limit, 100, "read: most events to print; 0 = all.");
ABSL_FLAG(bool, progress, true,
          "import: show progress on stderr when it is a terminal.");
ABSL_FLAG(std::string, backup_dir, "", "restore: the backup directory.");
ABSL_FLAG(std::string, data_dir, "",
          "restore: the new data directory; verify: the store to check.");
ABSL_FLAG(uint64_t, to, 0,
          "export, replay: last position (default: all, the head).");
ABSL_FLAG(std::string, units, "",
          "replay: units whose rollups to print (comma-separated), over the "
          "rollup range flags.");
ABSL_FLAG(std::string, out_dir, "",
          "replay: where its results go; nightly: the reports folder (one "
          "subfolder per date).");
ABSL_FLAG(std::string, date, "",
          "nightly: the day to report (dd/mm/yyyy or yyyy-mm-dd); default "
          "yesterday in Asia/Ho_Chi_Minh.");
ABSL_FLAG(std::string, group, "nenep-nightly",
          "nightly: the consumer group the job follows the log with.");
ABSL_FLAG(uint64_t, position, 0,
          "snapshots show: which snapshot of the date (0 = its latest).");
ABSL_FLAG(std::string, format, "jsonl", "export: jsonl or csv.");
ABSL_FLAG(std::string, out, "",
          "export: write to this file (via a temporary file renamed into "
          "place); default stdout.");
ABSL_FLAG(bool, fresh, false,
          "audit head: sign a head now over every committed event.");
ABSL_FLAG(uint64_t, tree_size, 0,
          "audit head / proof: that tree size (default: the latest signed "
          "head).");
ABSL_FLAG(std::string, public_key, "",
          "verify: the Ed25519 public key (64 hex digits) that must have "
          "signed the tree heads; default: the key they carry.");
ABSL_FLAG(uint32_t, backup_id, 0, "restore: which backup (0 = the latest).");
ABSL_FLAG(std::string, find, "",
          "units: find units whose name contains this, ignoring accents.");
ABSL_FLAG(std::string, as_of, "",
          "units: the date of the tree to show (dd/mm/yyyy; default today).");
ABSL_FLAG(bool, all, false,
          "units --find: also units not active on --as_of; groups replay: "
          "every parked event.");
ABSL_FLAG(std::string, from_date, "", "rollup: first day (dd/mm/yyyy).");
ABSL_FLAG(std::string, to_date, "", "rollup: last day (dd/mm/yyyy).");
ABSL_FLAG(std::string, period, "",
          "rollup: 2024, 2024-H1, 2024-Q2 or 2024-03.");
ABSL_FLAG(std::string, phase, "", "rollup: a phase such as 2021-2023.");
ABSL_FLAG(std::string, as_of_structure, "",
          "rollup: restate history under the tree of this date (dd/mm/yyyy); "
          "default: as recorded.");
ABSL_FLAG(bool, children, false,
          "rollup: one line per direct child instead of the unit's total.");
ABSL_FLAG(std::string, sort_by, "",
          "rollup --children: a measure, e.g. regular_compliance.");
ABSL_FLAG(bool, descending, false, "rollup --children: largest first.");
ABSL_FLAG(std::string, known_as_of, "",
          "rollup: as the system knew it at a log position (e.g. 1234) or a "
          "recorded instant (RFC 3339, e.g. 2024-03-15T17:00:00+07:00); "
          "later corrections left out.");
ABSL_FLAG(std::string, types, "",
          "tail: event types, comma-separated (e.g. SessionHeld,UnitMoved).");
ABSL_FLAG(std::string, subtree, "",
          "tail: only events about units in this unit's subtree.");
ABSL_FLAG(int64_t, count, 0,
          "tail, groups consume: stop after this many events; 0 = never.");
ABSL_FLAG(bool, from_now, false,
          "groups create: only events committed from now on.");
ABSL_FLAG(absl::Duration, ack_deadline, absl::ZeroDuration(),
          "groups create: redeliver an event not acked within this (e.g. "
          "30s; default: the server's, 30s).");
ABSL_FLAG(uint32_t, max_deliveries, 0,
          "groups create: park an event after this many deliveries "
          "(default: the server's, 5).");
ABSL_FLAG(std::string, member, "",
          "groups consume: the member name to pull and ack as.");

namespace {

constexpr char kUsage[] =
    "command-line client of nenepd.\n\n"
    "usage: nenep [--server=HOST:PORT] [--json] COMMAND [ARGS]\n\n"
    "commands:\n"
    "  append FILE|-     append the events of a JSON Lines file in one atomic\n"
    "                    request [--stream --expected_revision --request_id]\n"
    "  import FILE|-     bulk import a JSON Lines file in batches; re-running\n"
    "                    it appends nothing twice [--batch_size]\n"
    "  read              print events [--from --backward --limit --stream]\n"
    "  get POSITION      print one event in full\n"
    "  status            health and figures of the server\n"
    "  backup DIR        online backup into DIR (a path on the server)\n"
    "  units UNIT_ID     a unit and its children [--as_of=dd/mm/yyyy]\n"
    "  units --find=TEXT units by name, accents optional [--all]\n"
    "  rollup UNIT_ID    every measure of the unit's subtree over a range:\n"
    "                    --from_date=dd/mm/yyyy --to_date=dd/mm/yyyy,\n"
    "                    --period=2024|2024-H1|2024-Q2|2024-03 or\n"
    "                    --phase=2021-2023 [--as_of_structure=dd/mm/yyyy]\n"
    "                    [--children --sort_by=MEASURE --descending]\n"
    "                    [--known_as_of=POSITION|RFC3339_TIME]\n"
    "  rebuild           recompute the projections from the log and compare\n"
    "  tail              follow the log live [--from=POSITION (default: new\n"
    "                    events only) --types=A,B --subtree=UNIT --count=N]\n"
    "  groups            consumer groups (checkpoint, lag, in flight,\n"
    "                    parked) and live subscribers; subcommands:\n"
    "    create NAME     [--types --subtree --from=POSITION | --from_now\n"
    "                    --ack_deadline=30s --max_deliveries=5]\n"
    "    get NAME | delete NAME | parked NAME\n"
    "    replay NAME POSITION... | --all   deliver parked events again\n"
    "    consume NAME --member=M [--count=N]   print and ack events\n"
    "  audit head        the latest signed Merkle tree head [--fresh]\n"
    "  audit proof POS   an event's inclusion proof [--tree_size=N]\n"
    "  audit consistency FIRST [SECOND]   a consistency proof; with --json\n"
    "                    each is what nenep-verify-proof checks offline\n"
    "  replay            replay the log into a separate state up to\n"
    "                    --to=POSITION or --known_as_of=TIME, with progress;\n"
    "                    checksum and rollups of --units=A,B (with a range\n"
    "                    as for rollup) printed and kept in --out_dir=DIR\n"
    "  export            events with correction chain, leaf hash and proof\n"
    "                    under a signed head [--subtree=UNIT --from --to\n"
    "                    --format=jsonl|csv --out=FILE]\n"
    "  nightly           the daily snapshot and its reports (xlsx, CSV, HTML)\n"
    "                    in --out_dir=DIR/yyyy-mm-dd [--date=dd/mm/yyyy\n"
    "                    (default yesterday) --phase=2021-2025 --group=G]\n"
    "  snapshots         stored snapshots: list | show DATE UNIT_ID\n"
    "                    [--position] | diff DATE1 DATE2 UNIT_ID\n"
    "  verify            offline: --data_dir=DIR [--public_key=HEX] recompute\n"
    "                    the Merkle tree and check every event and signed\n"
    "                    tree head; exit 1 naming each altered, removed or\n"
    "                    reordered position\n"
    "  restore           offline: --backup_dir=B --data_dir=NEW_DIR\n\n"
    "A JSON Lines line is a nenep.v1.BatchEntry "
    "({\"stream\":..,\"event\":{..}})\n"
    "or a bare nenep.v1.Event ({\"businessDate\":{..},\"sessionHeld\":{..}}),\n"
    "in protobuf's JSON mapping (see proto/nenep/v1/events.proto).\n"
    "Exit codes: 0 success, 1 failure, 2 usage error.";

int Usage(const std::string& problem) {
  std::cerr << "nenep: " << problem << "\n"
            << "run 'nenep --help' for usage\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage("no command given");
  const std::string command = args[1];

  if (command == "verify") {
    return nenep::cli::Verify(
        absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_public_key),
        absl::GetFlag(FLAGS_json), &std::cout, &std::cerr);
  }
  if (command == "restore") {
    return nenep::cli::Restore(
        absl::GetFlag(FLAGS_backup_dir), absl::GetFlag(FLAGS_data_dir),
        absl::GetFlag(FLAGS_backup_id), &std::cout, &std::cerr);
  }

  nenep::cli::Context ctx;
  ctx.server = absl::GetFlag(FLAGS_server);
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(256 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca_file); !ca.empty()) {
    auto read = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read(ca);
    if (ssl.pem_root_certs.empty()) {
      return Usage(absl::StrCat("cannot read --tls_ca_file ", ca));
    }
    const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
    const std::string key = absl::GetFlag(FLAGS_tls_key_file);
    if (cert.empty() != key.empty()) {
      return Usage("--tls_cert_file and --tls_key_file go together");
    }
    if (!cert.empty()) {
      ssl.pem_cert_chain = read(cert);
      ssl.pem_private_key = read(key);
      if (ssl.pem_cert_chain.empty() || ssl.pem_private_key.empty()) {
        return Usage("cannot read --tls_cert_file or --tls_key_file");
      }
    }
    credentials = grpc::SslCredentials(ssl);
    if (const std::string name = absl::GetFlag(FLAGS_tls_server_name);
        !name.empty()) {
      channel_args.SetSslTargetNameOverride(name);
    }
  }
  ctx.channel =
      grpc::CreateCustomChannel(ctx.server, credentials, channel_args);
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    std::ifstream in(path);
    if (!std::getline(in, ctx.bearer_token) || ctx.bearer_token.empty()) {
      return Usage(
          absl::StrCat("cannot read a token from --token_file ", path));
    }
  } else if (const char* token = std::getenv("NENEP_TOKEN"); token != nullptr) {
    ctx.bearer_token = token;
  }
  ctx.json = absl::GetFlag(FLAGS_json);
  ctx.timeout = absl::GetFlag(FLAGS_timeout);
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.progress = absl::GetFlag(FLAGS_progress) && isatty(STDERR_FILENO);

  auto need_args = [&](size_t n, const char* what) {
    return args.size() == n + 2 ? 0
                                : Usage(absl::StrCat(command, " needs ", what));
  };
  if (command == "append") {
    if (int rc = need_args(1, "one FILE (or - for stdin)")) return rc;
    nenep::cli::AppendOptions o;
    o.stream = absl::GetFlag(FLAGS_stream);
    o.expected_revision = absl::GetFlag(FLAGS_expected_revision);
    o.request_id = absl::GetFlag(FLAGS_request_id);
    return nenep::cli::Append(ctx, args[2], o);
  }
  if (command == "import") {
    if (int rc = need_args(1, "one FILE (or - for stdin)")) return rc;
    nenep::cli::ImportOptions o;
    o.batch_size = absl::GetFlag(FLAGS_batch_size);
    o.request_id_prefix = absl::GetFlag(FLAGS_request_id_prefix);
    return nenep::cli::Import(ctx, args[2], o);
  }
  if (command == "read") {
    if (int rc = need_args(0, "no arguments (use flags)")) return rc;
    nenep::cli::ReadOptions o;
    o.from = absl::GetFlag(FLAGS_from);
    o.backward = absl::GetFlag(FLAGS_backward);
    o.limit = absl::GetFlag(FLAGS_limit);
    o.stream = absl::GetFlag(FLAGS_stream);
    return nenep::cli::Read(ctx, o);
  }
  if (command == "get") {
    if (int rc = need_args(1, "one POSITION")) return rc;
    uint64_t position = 0;
    if (!absl::SimpleAtoi(args[2], &position) || position == 0) {
      return Usage(
          absl::StrCat("'", args[2], "' is not a position (1, 2, ...)"));
    }
    return nenep::cli::Get(ctx, position);
  }
  if (command == "status") {
    if (int rc = need_args(0, "no arguments")) return rc;
    return nenep::cli::Status(ctx);
  }
  if (command == "backup") {
    if (int rc = need_args(1, "one DIR")) return rc;
    return nenep::cli::Backup(ctx, args[2]);
  }
  if (command == "units") {
    nenep::cli::UnitsOptions o;
    o.find = absl::GetFlag(FLAGS_find);
    o.as_of = absl::GetFlag(FLAGS_as_of);
    o.all = absl::GetFlag(FLAGS_all);
    if (o.find.empty()) {
      if (int rc = need_args(1, "one UNIT_ID (or --find=TEXT)")) return rc;
      return nenep::cli::Units(ctx, args[2], o);
    }
    if (int rc = need_args(0, "no UNIT_ID with --find")) return rc;
    return nenep::cli::Units(ctx, "", o);
  }
  if (command == "rollup") {
    if (int rc = need_args(1, "one UNIT_ID")) return rc;
    nenep::cli::RollupOptions o;
    o.from = absl::GetFlag(FLAGS_from_date);
    o.to = absl::GetFlag(FLAGS_to_date);
    o.period = absl::GetFlag(FLAGS_period);
    o.phase = absl::GetFlag(FLAGS_phase);
    o.structure_date = absl::GetFlag(FLAGS_as_of_structure);
    o.children = absl::GetFlag(FLAGS_children);
    o.sort_by = absl::GetFlag(FLAGS_sort_by);
    o.descending = absl::GetFlag(FLAGS_descending);
    o.known_as_of = absl::GetFlag(FLAGS_known_as_of);
    return nenep::cli::Rollup(ctx, args[2], o);
  }
  if (command == "tail") {
    if (int rc = need_args(0, "no arguments (use flags)")) return rc;
    nenep::cli::TailOptions o;
    o.from = absl::GetFlag(FLAGS_from);
    const std::string types = absl::GetFlag(FLAGS_types);
    if (!types.empty()) o.types = absl::StrSplit(types, ',');
    o.subtree = absl::GetFlag(FLAGS_subtree);
    o.count = absl::GetFlag(FLAGS_count);
    return nenep::cli::Tail(ctx, o);
  }
  if (command == "groups") {
    nenep::cli::GroupsOptions o;
    const std::string types = absl::GetFlag(FLAGS_types);
    if (!types.empty()) o.types = absl::StrSplit(types, ',');
    o.subtree = absl::GetFlag(FLAGS_subtree);
    o.from = absl::GetFlag(FLAGS_from);
    o.from_now = absl::GetFlag(FLAGS_from_now);
    o.ack_deadline = absl::GetFlag(FLAGS_ack_deadline);
    o.max_deliveries = absl::GetFlag(FLAGS_max_deliveries);
    o.member = absl::GetFlag(FLAGS_member);
    o.count = absl::GetFlag(FLAGS_count);
    o.all = absl::GetFlag(FLAGS_all);
    return nenep::cli::Groups(
        ctx, std::vector<std::string>(args.begin() + 2, args.end()), o);
  }
  if (command == "replay") {
    if (int rc = need_args(0, "no arguments (use flags)")) return rc;
    nenep::cli::ReplayOptions o;
    o.to = absl::GetFlag(FLAGS_to);
    o.known_as_of = absl::GetFlag(FLAGS_known_as_of);
    const std::string units = absl::GetFlag(FLAGS_units);
    if (!units.empty()) o.units = absl::StrSplit(units, ',');
    o.rollup.from = absl::GetFlag(FLAGS_from_date);
    o.rollup.to = absl::GetFlag(FLAGS_to_date);
    o.rollup.period = absl::GetFlag(FLAGS_period);
    o.rollup.phase = absl::GetFlag(FLAGS_phase);
    o.rollup.structure_date = absl::GetFlag(FLAGS_as_of_structure);
    o.out_dir = absl::GetFlag(FLAGS_out_dir);
    return nenep::cli::Replay(ctx, o);
  }
  if (command == "export") {
    if (int rc = need_args(0, "no arguments (use flags)")) return rc;
    nenep::cli::ExportOptions o;
    o.subtree = absl::GetFlag(FLAGS_subtree);
    o.from = absl::GetFlag(FLAGS_from);
    o.to = absl::GetFlag(FLAGS_to);
    o.format = absl::GetFlag(FLAGS_format);
    o.out = absl::GetFlag(FLAGS_out);
    return nenep::cli::Export(ctx, o);
  }
  if (command == "audit") {
    return nenep::cli::Audit(
        ctx, std::vector<std::string>(args.begin() + 2, args.end()),
        absl::GetFlag(FLAGS_fresh), absl::GetFlag(FLAGS_tree_size));
  }
  if (command == "nightly") {
    if (int rc = need_args(0, "no arguments (use flags)")) return rc;
    nenep::cli::NightlyOptions o;
    o.date = absl::GetFlag(FLAGS_date);
    o.out_dir = absl::GetFlag(FLAGS_out_dir);
    o.group = absl::GetFlag(FLAGS_group);
    o.phase = absl::GetFlag(FLAGS_phase);
    return nenep::cli::Nightly(ctx, o);
  }
  if (command == "snapshots") {
    return nenep::cli::Snapshots(
        ctx, std::vector<std::string>(args.begin() + 2, args.end()),
        absl::GetFlag(FLAGS_position));
  }
  if (command == "rebuild") {
    if (int rc = need_args(0, "no arguments")) return rc;
    return nenep::cli::Rebuild(ctx);
  }
  return Usage(absl::StrCat("unknown command '", command, "'"));
}
