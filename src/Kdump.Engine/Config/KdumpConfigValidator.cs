namespace Kdump.Engine.Config;

/// <summary>Options of Test-KdumpConfig: the machine's RAM and architecture and the makedumpfile probe.</summary>
public sealed class KdumpConfigTestOptions
{
    /// <summary>RAM in bytes; null reads MemTotal from /proc/meminfo under the root.</summary>
    public ulong? MemoryBytes { get; init; }
    public string Architecture { get; init; } = CrashKernelParser.HostArchitecture;
    /// <summary>Asks the host's makedumpfile what it supports; null = run makedumpfile -v on a live system, skip under a -Root.</summary>
    public Func<MakedumpfileCapabilities?>? MakedumpfileProbe { get; init; }
}

/// <summary>What kdumpctl and mkdumprd check before they build the kdump initramfs, as findings (Test-KdumpConfig).</summary>
public static partial class KdumpConfigValidator
{
    public static readonly IReadOnlySet<string> KnownDirectives = new HashSet<string>(KdumpConfigReader.TargetDirectives.Concat(
    [
        "path", "core_collector", "sshkey", "kdump_pre", "kdump_post", "kdump_emergency", "extra_bins", "extra_modules",
        "failure_action", "default", "final_action", "force_rebuild", "force_no_rebuild", "dracut_args",
        "fence_kdump_args", "fence_kdump_nodes", "auto_reset_crashkernel",
    ]), StringComparer.Ordinal);

    public static readonly IReadOnlySet<string> DeprecatedDirectives = new HashSet<string>(StringComparer.Ordinal)
        { "net", "options", "link_delay", "disk_timeout", "debug_mem_level", "blacklist" };

    private static readonly string[] FailureActions = ["reboot", "halt", "poweroff", "shell", "dump_to_rootfs"];
    private static readonly string[] FinalActions = ["reboot", "halt", "poweroff"];

    public static IReadOnlyList<KdumpConfigFinding> Test(string? root, KdumpConfigTestOptions? options = null)
    {
        var host = new HostRoot(root);
        return Test(ConfigSnapshot.Load(host), options ?? new KdumpConfigTestOptions());
    }

    internal static List<KdumpConfigFinding> Test(ConfigSnapshot s, KdumpConfigTestOptions options)
    {
        var f = new List<KdumpConfigFinding>();
        var config = KdumpConfigReader.Read(s);
        Func<MakedumpfileCapabilities?> probe = options.MakedumpfileProbe
            ?? (s.Host.IsLiveSystem ? HostProbes.ProbeMakedumpfile : () => null);
        switch (s.Flavor)
        {
            case KdumpConfigFlavor.RedHat: CheckKdumpConf(s, s.KdumpConf!, config, f); break;
            case KdumpConfigFlavor.Debian: CheckKdumpTools(s.KdumpTools!, config, f); break;
            case KdumpConfigFlavor.Suse: break;
            default:
                f.Add(new KdumpConfigFinding
                {
                    Severity = FindingSeverity.Warning, RuleId = "ConfigNotFound",
                    Message = $"No kdump configuration ({ConfigSnapshot.KdumpConfPath}, {ConfigSnapshot.KdumpToolsPath} or {ConfigSnapshot.SysconfigPath}) under {s.Host.Root}.",
                    SuggestedFix = "Install kdump-utils/kexec-tools (RHEL, Fedora) or kdump-tools (Debian, Ubuntu).",
                });
                break;
        }
        if (s.Flavor != KdumpConfigFlavor.None)
        {
            CheckCollector(s, config, probe, f);
            Guard(f, config.ConfigFile, 0, () => CheckPaths(s, config, f));
        }
        CheckCrashKernel(s, config, options, f);
        return f;
    }

    private static KdumpConfigFinding Error(string rule, string? file, int line, string message, string? fix = null) =>
        new() { Severity = FindingSeverity.Error, RuleId = rule, File = file, Line = line, Message = message, SuggestedFix = fix };

    private static KdumpConfigFinding Warning(string rule, string? file, int line, string message, string? fix = null) =>
        new() { Severity = FindingSeverity.Warning, RuleId = rule, File = file, Line = line, Message = message, SuggestedFix = fix };

    private static KdumpConfigFinding Info(string rule, string? file, int line, string message, string? fix = null) =>
        new() { Severity = FindingSeverity.Information, RuleId = rule, File = file, Line = line, Message = message, SuggestedFix = fix };

    private static void CheckKdumpConf(ConfigSnapshot s, ConfigText text, KdumpConfiguration config, List<KdumpConfigFinding> f)
    {
        string file = text.FullPath;
        var lines = ConfigParsers.ParseKdumpConf(text);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in lines)
        {
            int ln = l.Index + 1;
            if (DeprecatedDirectives.Contains(l.Name))
            {
                f.Add(Error("DeprecatedDirective", file, ln, $"'{l.Name}' is a deprecated kdump.conf option; kdumpctl refuses to start with it.",
                    l.Name switch
                    {
                        "net" => "Use 'nfs <host>:/<export>' or 'ssh <user>@<host>' instead.",
                        "options" => "Pass module options on the kdump kernel command line (KDUMP_COMMANDLINE_APPEND in /etc/sysconfig/kdump).",
                        "link_delay" or "disk_timeout" => "Remove the line; dracut waits for devices itself (rd.net.timeout.* on KDUMP_COMMANDLINE_APPEND for networks).",
                        "blacklist" => "Use rd.driver.blacklist=<module> on KDUMP_COMMANDLINE_APPEND.",
                        _ => "Remove the line.",
                    }));
                continue;
            }
            if (!KnownDirectives.Contains(l.Name))
            {
                f.Add(Error("UnknownDirective", file, ln, $"'{l.Name}' is not a kdump.conf option.", "Correct the spelling or remove the line (see kdump.conf(5))."));
                continue;
            }
            if (l.Value.Length == 0)
            {
                f.Add(Error("MissingValue", file, ln, $"'{l.Name}' has no value.", $"Give '{l.Name}' a value or remove the line."));
                continue;
            }
            if (l.Name == "default")
                f.Add(Warning("ObsoleteDirective", file, ln, "'default' is the obsolete spelling of 'failure_action'.", $"Replace the line with 'failure_action {l.Value}'."));
            if (!KdumpConfigReader.IsTarget(l))
            {
                // failure_action and its obsolete alias are one option to kdumpctl
                string key = l.Name == "default" ? "failure_action" : l.Name;
                if (seen.TryGetValue(key, out int first))
                    f.Add(Error("DuplicateDirective", file, ln, $"'{l.Name}' is given again (first on line {first}); kdumpctl rejects duplicated options.", "Keep one of the lines."));
                else seen[key] = ln;
            }
            CheckValue(l, file, f);
        }

        if (config.Targets.Count > 1)
            foreach (var t in config.Targets.Skip(1))
                f.Add(Error("MultipleTargets", file, t.Line, $"More than one dump target: '{t}' besides '{config.Targets[0]}' (line {config.Targets[0].Line}).", "Keep exactly one target line."));
        if (config.Targets.Count == 0)
            f.Add(Info("NoDumpTarget", file, 0, $"No dump target is configured; the dump is written to {config.Path} on the root file system."));

        if (seen.TryGetValue("force_rebuild", out int fr) && seen.TryGetValue("force_no_rebuild", out _))
        {
            bool on(string n) => lines.LastOrDefault(x => x.Name == n)?.Value == "1";
            if (on("force_rebuild") && on("force_no_rebuild"))
                f.Add(Error("ConflictingRebuildOptions", file, fr, "force_rebuild and force_no_rebuild are both set to 1.", "Set one of them to 0 or remove it."));
        }
        if (config.Target.Type != "ssh" && lines.FirstOrDefault(l => l.Name == "sshkey") is { } sk)
            f.Add(Warning("SshKeyWithoutSshTarget", file, sk.Index + 1, "sshkey is set but the dump target is not ssh; it is ignored."));
        foreach (var hook in lines.Where(l => l.Name is "kdump_pre" or "kdump_post" or "kdump_emergency"))
        {
            string script = hook.Value.Split(' ')[0];
            Guard(f, file, hook.Index + 1, () =>
            {
                string full = s.Host.Real(script);
                if (!File.Exists(full))
                    f.Add(Error("HookNotFound", file, hook.Index + 1, $"{hook.Name} script {script} does not exist.", $"Create {script} or remove the line."));
                else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
                    f.Add(Error("HookNotExecutable", file, hook.Index + 1, $"{hook.Name} script {script} is not executable.", $"chmod +x {script}"));
            });
        }
    }

    private static void CheckValue(KdumpConfLine l, string file, List<KdumpConfigFinding> f)
    {
        int ln = l.Index + 1;
        string? bad = l.Name switch
        {
            "failure_action" or "default" when !FailureActions.Contains(l.Value) => string.Join(", ", FailureActions),
            "final_action" when !FinalActions.Contains(l.Value) => string.Join(", ", FinalActions),
            "force_rebuild" or "force_no_rebuild" when l.Value is not ("0" or "1") => "0, 1",
            "auto_reset_crashkernel" when l.Value is not ("yes" or "no") => "yes, no",
            _ => null,
        };
        if (bad is not null)
            f.Add(Error("InvalidValue", file, ln, $"'{l.Value}' is not a valid value of {l.Name} (expected one of: {bad}).", $"Use one of: {bad}."));
        if (l.Name == "path" && !l.Value.StartsWith('/'))
            f.Add(Error("InvalidValue", file, ln, $"path '{l.Value}' is not absolute.", "Give an absolute path such as /var/crash."));
        if (l.Name == "ssh" && !l.Value.Contains('@'))
            f.Add(Warning("InvalidValue", file, ln, $"ssh target '{l.Value}' has no user@ part.", "Write the target as user@host."));
        if (l.Name == "nfs" && !l.Value.Contains(':'))
            f.Add(Error("InvalidValue", file, ln, $"nfs target '{l.Value}' is not host:/export.", "Write the target as host:/export."));
    }

    private static void CheckKdumpTools(ConfigText text, KdumpConfiguration config, List<KdumpConfigFinding> f)
    {
        string file = text.FullPath;
        var vars = KdumpConfigReader.LastAssignments(text);
        if (!vars.TryGetValue("USE_KDUMP", out var use) || use.Value != "1")
            f.Add(Warning("KdumpDisabled", file, use is null ? 0 : use.Index + 1, "USE_KDUMP is not 1: kdump-tools does not load the crash kernel.", "Set USE_KDUMP=1."));
        if (config.Targets.Count > 1)
            f.Add(Error("MultipleTargets", file, config.Targets[1].Line,
                $"More than one remote dump target ({string.Join(", ", config.Targets.Select(t => t.Type.ToUpperInvariant()))}); kdump-tools uses only one.", "Keep one of SSH, NFS and FTP."));
        if (config.Target.Type == "ssh" && string.IsNullOrEmpty(config.SshKey))
            f.Add(Info("SshKeyDefault", file, config.Target.Line, "SSH is set without SSH_KEY; root's default ssh identity is used."));
        if (vars.TryGetValue("KDUMP_COMPRESSION", out var kc) && kc.Value.Length > 0 && kc.Value is not ("bzip2" or "gzip" or "lz4" or "xz"))
            f.Add(Error("InvalidValue", file, kc.Index + 1, $"KDUMP_COMPRESSION '{kc.Value}' is not one of bzip2, gzip, lz4, xz.", "Use bzip2, gzip, lz4 or xz, or leave it empty."));
    }

    private static void CheckCollector(ConfigSnapshot s, KdumpConfiguration config, Func<MakedumpfileCapabilities?> probe, List<KdumpConfigFinding> f)
    {
        var cc = config.CoreCollector;
        var dir = config.Directives.LastOrDefault(d => d.Name is "core_collector" or "MAKEDUMP_ARGS");
        string? file = dir?.File ?? config.ConfigFile;
        int line = dir?.Line ?? 0;
        if (!cc.IsMakedumpfile)
        {
            f.Add(Warning("NonMakedumpfileCollector", file, line, $"The core collector '{cc.Program}' is not makedumpfile: the dump is neither filtered nor compressed.",
                $"Use '{MakedumpfileOptions.RedHatDefault}'."));
            if (config.Target.Type is "ssh" or "raw" && config.Flavor == KdumpConfigFlavor.RedHat && cc.Program != "scp")
                f.Add(Error("FlattenedFormatRequired", file, line, $"A {config.Target.Type} target needs makedumpfile -F (flattened output on a stream)."));
            return;
        }
        if (config.Flavor == KdumpConfigFlavor.RedHat && config.Target.Type is "ssh" or "raw" && !cc.Flattened)
            f.Add(Error("FlattenedFormatRequired", file, line, $"A {config.Target.Type} target needs makedumpfile -F: the dump is written to a stream, not a file.",
                $"core_collector {MakedumpfileOptions.WithCompression(cc.CommandLine, cc.Compression).Replace("makedumpfile", "makedumpfile -F", StringComparison.Ordinal)}"));
        if (cc.DumpLevel is { } lvl && (lvl < 0 || lvl > 31))
            f.Add(Error("DumpLevelOutOfRange", file, line, $"Dump level {lvl} is outside 0-31.", "Use -d 31 to exclude zero, cache, user and free pages."));
        else if (cc.DumpLevel is null && !cc.IsDefault)
            f.Add(Information("DumpLevelMissing", file, line, "makedumpfile has no -d: no page is excluded and the dump is as large as memory.", "Add -d 31."));
        if (cc.MessageLevel is { } ml && (ml < 0 || ml > 31))
            f.Add(Error("MessageLevelOutOfRange", file, line, $"Message level {ml} is outside 0-31."));
        if (cc.CompressionFlags.Distinct().Count() > 1)
            f.Add(Warning("MultipleCompressionFlags", file, line,
                $"More than one compression option ({string.Join(", ", cc.CompressionFlags.Select(c => "-" + MakedumpfileOptions.Flag(c)))}); makedumpfile uses the last.", "Keep one of -c, -l, -p, -z."));
        if (cc.Elf && cc.Compression != DumpCompression.None)
            f.Add(Warning("ElfCompression", file, line, "-E (ELF output) cannot be compressed; the compression option is ignored."));
        if (cc.Compression is DumpCompression.Lzo or DumpCompression.Snappy or DumpCompression.Zstd)
        {
            var caps = probe();
            if (caps is not null && !caps.Supports(cc.Compression))
                f.Add(Error("CompressionUnsupported", file, line,
                    $"This makedumpfile ({caps.Version}) was built without {cc.Compression.ToString().ToLowerInvariant()} support (-{MakedumpfileOptions.Flag(cc.Compression)}).",
                    "Use -c (zlib), which every makedumpfile supports" + (caps.Lzo && cc.Compression != DumpCompression.Lzo ? ", or -l (lzo)." : ".")));
        }
    }

    /// <summary>
    /// Runs a check that reads a file the configuration names (hook, fstab, ssh key, meminfo); a symbolic link out of
    /// the root, a dangling link or a link loop becomes an Error finding with that error id instead of ending the test.
    /// </summary>
    private static void Guard(List<KdumpConfigFinding> f, string? file, int line, Action check)
    {
        try { check(); }
        catch (KdumpException e) when (e.ErrorId is "ConfigLinkOutsideRoot" or "ConfigLinkDangling" or "ConfigLinkLoop")
        {
            f.Add(Error(e.ErrorId, file, line, e.Message + (file is null ? "" : " It was not checked."),
                e.ErrorId == "ConfigLinkDangling" ? "Fix or remove the link." : "Make the link relative to the root, or point it inside the root."));
        }
    }

    private static KdumpConfigFinding Information(string rule, string? file, int line, string message, string? fix = null) => Info(rule, file, line, message, fix);
}
