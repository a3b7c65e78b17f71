// nenep: command-line client of nenepd.

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tools/cli/cli.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
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
ABSL_FLAG(std::string, data_dir, "", "restore: the new data directory.");
ABSL_FLAG(uint32_t, backup_id, 0, "restore: which backup (0 = the latest).");

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

  if (command == "restore") {
    return nenep::cli::Restore(
        absl::GetFlag(FLAGS_backup_dir), absl::GetFlag(FLAGS_data_dir),
        absl::GetFlag(FLAGS_backup_id), &std::cout, &std::cerr);
  }

  nenep::cli::Context ctx;
  ctx.server = absl::GetFlag(FLAGS_server);
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(256 << 20);
  ctx.channel = grpc::CreateCustomChannel(
      ctx.server, grpc::InsecureChannelCredentials(), channel_args);
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
  return Usage(absl::StrCat("unknown command '", command, "'"));
}
