using System.CommandLine;
using VectorStore.Cli;

// Every command lives in its own file under Commands/ and is found by reflection, so adding one touches no shared file.
var root = new RootCommand("VectorStore: embedded vector search over compressed embeddings");
foreach (var command in CliCommand.Discover()) root.Subcommands.Add(command.Build());
return CliCommand.Run(root, args);
