using VectorStore.Cli;

return CliCommand.Run(CliCommand.BuildRoot(), args);
