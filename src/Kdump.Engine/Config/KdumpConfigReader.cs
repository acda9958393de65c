namespace Kdump.Engine.Config;

/// <summary>Builds the <see cref="KdumpConfiguration"/> summary from the files of a host (Get-KdumpConfig).</summary>
public static class KdumpConfigReader
{
    /// <summary>kdump.conf dump targets that name a file system type.</summary>
    public static readonly IReadOnlySet<string> FsTargets = new HashSet<string>(StringComparer.Ordinal)
        { "ext2", "ext3", "ext4", "xfs", "btrfs", "minix", "virtiofs" };

    public static readonly IReadOnlySet<string> TargetDirectives = new HashSet<string>(FsTargets.Concat(["raw", "nfs", "ssh"]), StringComparer.Ordinal);

    public static KdumpConfiguration Read(string? root) => Read(ConfigSnapshot.Load(new HostRoot(root)));

    internal static KdumpConfiguration Read(ConfigSnapshot s)
    {
        var boot = ReadBootEntries(s);
        return s.Flavor switch
        {
            KdumpConfigFlavor.RedHat => ReadRedHat(s, s.KdumpConf!, boot),
            KdumpConfigFlavor.Debian => ReadDebian(s, s.KdumpTools!, boot),
            KdumpConfigFlavor.Suse => ReadSuse(s, s.Sysconfig!, boot),
            _ => new KdumpConfiguration
            {
                Root = s.Host.Root,
                Flavor = KdumpConfigFlavor.None,
                PathIsDefault = true,
                CoreCollector = new CoreCollectorInfo(),
                BootEntries = boot,
                Directives = SysconfigDirectives(s, KdumpConfigFlavor.None),
            },
        };
    }

    internal static List<KdumpTarget> Targets(ConfigText text, List<KdumpConfLine> lines) =>
        lines.Where(IsTarget).Select(l => new KdumpTarget
        {
            Type = l.Name == "dracut_args" ? "mount" : l.Name,
            Location = l.Name == "dracut_args" ? MountSource(l.Value) : l.Value,
            File = text.FullPath,
            Line = l.Index + 1,
        }).ToList();

    internal static bool IsTarget(KdumpConfLine l) =>
        TargetDirectives.Contains(l.Name) || (l.Name == "dracut_args" && l.Value.Contains("--mount", StringComparison.Ordinal));

    private static string MountSource(string dracutArgs)
    {
        // dracut_args --mount "<device> <mountpoint> <fstype> [options]"
        int i = dracutArgs.IndexOf("--mount", StringComparison.Ordinal);
        var words = MakedumpfileOptions.Split(dracutArgs[(i + "--mount".Length)..]);
        return words.Count > 0 ? words[0].Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "" : "";
    }

    private static KdumpConfiguration ReadRedHat(ConfigSnapshot s, ConfigText text, List<KernelBootEntry> boot)
    {
        var lines = ConfigParsers.ParseKdumpConf(text);
        string? Last(string name) => lines.LastOrDefault(l => l.Name == name)?.Value;
        var targets = Targets(text, lines);
        var target = targets.FirstOrDefault() ?? new KdumpTarget { IsDefault = true };
        bool flat = target.Type is "raw" or "ssh";
        string? cc = Last("core_collector");
        string? path = Last("path");
        var directives = lines.Select(l => new KdumpConfigDirective
        {
            Name = l.Name, Value = l.Value, Comment = l.Comment, File = text.FullPath, Line = l.Index + 1, Flavor = KdumpConfigFlavor.RedHat,
        }).Concat(SysconfigDirectives(s, KdumpConfigFlavor.RedHat)).ToList();
        return new KdumpConfiguration
        {
            Root = s.Host.Root,
            Flavor = KdumpConfigFlavor.RedHat,
            ConfigFile = text.FullPath,
            Target = target,
            Targets = targets,
            Path = path ?? "/var/crash",
            PathIsDefault = path is null,
            CoreCollector = MakedumpfileOptions.Decode(cc ?? (flat ? MakedumpfileOptions.RedHatFlattenedDefault : MakedumpfileOptions.RedHatDefault), cc is null),
            SshKey = Last("sshkey") ?? (target.Type == "ssh" ? "/root/.ssh/kdump_id_rsa" : null),
            FailureAction = Last("failure_action") ?? Last("default") ?? "reboot",
            FinalAction = Last("final_action") ?? "reboot",
            ExtraBins = lines.Where(l => l.Name == "extra_bins").SelectMany(l => l.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList(),
            ExtraModules = lines.Where(l => l.Name == "extra_modules").SelectMany(l => l.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList(),
            BootEntries = boot,
            Directives = directives,
        };
    }

    private static List<KdumpConfigDirective> ShellDirectives(ConfigText text, KdumpConfigFlavor flavor) =>
        ConfigParsers.ParseShell(text).Select(a => new KdumpConfigDirective
        {
            Name = a.Name, Value = a.Value, Comment = a.Comment, File = text.FullPath, Line = a.Index + 1, Flavor = flavor,
        }).ToList();

    private static List<KdumpConfigDirective> SysconfigDirectives(ConfigSnapshot s, KdumpConfigFlavor flavor) =>
        s.Sysconfig is null || flavor == KdumpConfigFlavor.Suse ? [] : ShellDirectives(s.Sysconfig, flavor);

    internal static Dictionary<string, ShellAssignment> LastAssignments(ConfigText text)
    {
        var d = new Dictionary<string, ShellAssignment>(StringComparer.Ordinal);
        foreach (var a in ConfigParsers.ParseShell(text)) d[a.Name] = a;
        return d;
    }

    internal static List<KdumpTarget> DebianTargets(ConfigText text)
    {
        var vars = LastAssignments(text);
        var list = new List<KdumpTarget>();
        foreach (var (name, type) in new[] { ("SSH", "ssh"), ("NFS", "nfs"), ("FTP", "ftp") })
            if (vars.TryGetValue(name, out var a) && a.Value.Length > 0)
                list.Add(new KdumpTarget { Type = type, Location = a.Value, File = text.FullPath, Line = a.Index + 1 });
        return list;
    }

    private static KdumpConfiguration ReadDebian(ConfigSnapshot s, ConfigText text, List<KernelBootEntry> boot)
    {
        var vars = LastAssignments(text);
        string? V(string n) => vars.TryGetValue(n, out var a) ? a.Value : null;
        var targets = DebianTargets(text);
        string? args = V("MAKEDUMP_ARGS");
        string? dir = V("KDUMP_COREDIR");
        return new KdumpConfiguration
        {
            Root = s.Host.Root,
            Flavor = KdumpConfigFlavor.Debian,
            ConfigFile = text.FullPath,
            Enabled = V("USE_KDUMP") == "1",
            Target = targets.FirstOrDefault() ?? new KdumpTarget { IsDefault = true },
            Targets = targets,
            Path = string.IsNullOrEmpty(dir) ? "/var/crash" : dir,
            PathIsDefault = string.IsNullOrEmpty(dir),
            CoreCollector = MakedumpfileOptions.Decode("makedumpfile " + (args ?? MakedumpfileOptions.DebianDefaultArgs), args is null),
            SshKey = V("SSH_KEY"),
            FailureAction = V("KDUMP_FAIL_CMD") ?? "reboot -f",
            FinalAction = "reboot",
            BootEntries = boot,
            Directives = ShellDirectives(text, KdumpConfigFlavor.Debian),
        };
    }

    /// <summary>SUSE's KDUMP_DUMPFORMAT values to makedumpfile flags.</summary>
    internal static string SuseFormatFlag(string? format) => format switch
    {
        "compressed" or null or "" => "-c",
        "lzo" => "-l",
        "snappy" => "-p",
        "zstd" => "-z",
        "ELF" => "-E",
        _ => "",
    };

    private static KdumpConfiguration ReadSuse(ConfigSnapshot s, ConfigText text, List<KernelBootEntry> boot)
    {
        var vars = LastAssignments(text);
        string? V(string n) => vars.TryGetValue(n, out var a) ? a.Value : null;
        string saveDir = V("KDUMP_SAVEDIR") is { Length: > 0 } sd ? sd : "/var/crash";
        var target = new KdumpTarget { IsDefault = true };
        string path = saveDir;
        if (Uri.TryCreate(saveDir, UriKind.Absolute, out var uri) && uri.Scheme != "file")
        {
            string host = (uri.UserInfo.Length > 0 ? uri.UserInfo + "@" : "") + uri.Host;
            target = new KdumpTarget
            {
                Type = uri.Scheme, Location = uri.Scheme == "nfs" ? host + ":" + uri.AbsolutePath : host,
                File = text.FullPath, Line = vars["KDUMP_SAVEDIR"].Index + 1,
            };
            path = uri.AbsolutePath;
        }
        else if (saveDir.StartsWith("file://", StringComparison.Ordinal)) path = saveDir["file://".Length..];
        string level = V("KDUMP_DUMPLEVEL") is { Length: > 0 } l ? l : "31";
        string cc = $"makedumpfile -d {level} {SuseFormatFlag(V("KDUMP_DUMPFORMAT"))}".TrimEnd();
        return new KdumpConfiguration
        {
            Root = s.Host.Root,
            Flavor = KdumpConfigFlavor.Suse,
            ConfigFile = text.FullPath,
            Target = target,
            Targets = target.IsDefault ? [] : [target],
            Path = path,
            PathIsDefault = V("KDUMP_SAVEDIR") is null,
            CoreCollector = MakedumpfileOptions.Decode(cc, V("KDUMP_DUMPLEVEL") is null && V("KDUMP_DUMPFORMAT") is null),
            FailureAction = V("KDUMP_CONTINUE_ON_ERROR") == "true" ? "continue" : "shell",
            FinalAction = V("KDUMP_IMMEDIATE_REBOOT") is "no" or "false" ? "none" : "reboot",
            SshKey = V("KDUMP_SSH_IDENTITY"),
            BootEntries = boot,
            Directives = ShellDirectives(text, KdumpConfigFlavor.Suse),
        };
    }

    /// <summary>
    /// What Set-KdumpConfig -Kernel can name on a host, for tab completion: the kernel versions in /boot (vmlinuz-*)
    /// and the boot entries (BLS id and version, grub.conf title), each with a description.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> KernelNames(string? root)
    {
        var host = new HostRoot(root);
        var list = new List<KeyValuePair<string, string>>();
        string boot = host.Real("/boot");
        if (Directory.Exists(boot))
            foreach (string f in Directory.EnumerateFiles(boot, "vmlinuz-*").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).Take(ConfigSnapshot.MaxBootEntries))
                list.Add(new(f["vmlinuz-".Length..], $"/boot/{f}"));
        foreach (var e in ReadBootEntries(ConfigSnapshot.Load(host)))
        {
            if (e.Kind == BootEntryKind.BootLoaderSpec)
            {
                if (e.Version is { Length: > 0 } v) list.Add(new(v, $"{e.Name}.conf ({e.Kernel})"));
                list.Add(new(e.Name, $"BLS entry {Path.GetFileName(e.File)}"));
            }
            else if (e.Kind == BootEntryKind.GrubLegacy) list.Add(new(e.Name, $"grub.conf: {e.Kernel}"));
        }
        return list.DistinctBy(k => k.Key, StringComparer.Ordinal).ToList();
    }

    // ---- boot entries -------------------------------------------------------------------------------------------

    internal static readonly string[] GrubCmdlineVars = ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"];

    internal static List<KernelBootEntry> ReadBootEntries(ConfigSnapshot s)
    {
        var list = new List<KernelBootEntry>();
        if (s.GrubDefault is { } g) list.AddRange(GrubDefaultEntries(g, BootEntryKind.GrubDefault));
        foreach (var d in s.GrubDropIns) list.AddRange(GrubDefaultEntries(d, BootEntryKind.GrubDefaultDropIn));
        var env = GrubEnv.Parse(s.GrubEnvironment);
        foreach (var b in s.BlsEntries) list.Add(BlsEntry(b, env));
        if (s.GrubLegacy is { } legacy) list.AddRange(GrubLegacyEntries(legacy));
        return list;
    }

    private static IEnumerable<KernelBootEntry> GrubDefaultEntries(ConfigText t, BootEntryKind kind) =>
        ConfigParsers.ParseShell(t).Where(a => GrubCmdlineVars.Contains(a.Name)).Select(a => new KernelBootEntry
        {
            Kind = kind, Name = a.Name, File = t.FullPath, Line = a.Index + 1, CommandLine = a.Value,
            CrashKernel = KernelCmdline.CrashKernelValues(a.Value),
        });

    /// <summary>The key/value lines of a BLS entry ("key value"), with their indices.</summary>
    internal static List<(int Index, string Key, string Value, int ValueStart)> BlsLines(ConfigText t)
    {
        var list = new List<(int, string, string, int)>();
        for (int i = 0; i < t.Lines.Count; i++)
        {
            string line = t.Lines[i];
            int p = 0;
            while (p < line.Length && char.IsWhiteSpace(line[p])) p++;
            if (p == line.Length || line[p] == '#') continue;
            int ks = p;
            while (p < line.Length && !char.IsWhiteSpace(line[p])) p++;
            string key = line[ks..p];
            while (p < line.Length && char.IsWhiteSpace(line[p])) p++;
            list.Add((i, key, ConfigText.Decode(line[p..].TrimEnd()), p));
        }
        return list;
    }

    /// <summary>A BLS entry; its options with $kernelopts (and other grubenv variables) expanded as GRUB boots it.</summary>
    private static KernelBootEntry BlsEntry(ConfigText t, IReadOnlyDictionary<string, GrubEnv.Variable> env)
    {
        var kv = BlsLines(t);
        string? Get(string k) => kv.FirstOrDefault(x => x.Key == k).Value;
        var options = kv.Where(x => x.Key == "options").ToList();
        string cmdline = GrubEnv.Expand(string.Join(' ', options.Select(o => o.Value)), env);
        string id = Path.GetFileNameWithoutExtension(t.FullPath);
        return new KernelBootEntry
        {
            Kind = BootEntryKind.BootLoaderSpec,
            Name = id,
            Kernel = Get("linux") ?? "",
            Version = Get("version"),
            File = t.FullPath,
            Line = options.Count > 0 ? options[0].Index + 1 : 0,
            CommandLine = cmdline,
            CrashKernel = KernelCmdline.CrashKernelValues(cmdline),
        };
    }

    /// <summary>kernel lines of grub.conf with the title above them; (line index, title, kernel path, args start).</summary>
    internal static List<(int Index, string Title, string Kernel, int ArgsStart)> GrubLegacyKernelLines(ConfigText t)
    {
        var list = new List<(int, string, string, int)>();
        string title = "";
        for (int i = 0; i < t.Lines.Count; i++)
        {
            string line = t.Lines[i];
            string trimmed = line.TrimStart();
            if (trimmed.StartsWith('#')) continue;
            if (trimmed.StartsWith("title", StringComparison.Ordinal) && (trimmed.Length == 5 || char.IsWhiteSpace(trimmed[5])))
            { title = ConfigText.Decode(trimmed[5..].Trim()); continue; }
            if (!trimmed.StartsWith("kernel", StringComparison.Ordinal) || trimmed.Length < 7 || !char.IsWhiteSpace(trimmed[6])) continue;
            int p = line.Length - trimmed.Length + 6;
            // skip blanks and grub options (--type=...) to the image path
            string kernel = "";
            while (true)
            {
                while (p < line.Length && char.IsWhiteSpace(line[p])) p++;
                int ws = p;
                while (p < line.Length && !char.IsWhiteSpace(line[p])) p++;
                string w = line[ws..p];
                if (w.StartsWith("--", StringComparison.Ordinal)) continue;
                kernel = ConfigText.Decode(w);
                break;
            }
            while (p < line.Length && char.IsWhiteSpace(line[p])) p++;
            list.Add((i, title, kernel, p));
        }
        return list;
    }

    private static IEnumerable<KernelBootEntry> GrubLegacyEntries(ConfigText t) =>
        GrubLegacyKernelLines(t).Select(k =>
        {
            string args = ConfigText.Decode(t.Lines[k.Index][k.ArgsStart..].TrimEnd());
            return new KernelBootEntry
            {
                Kind = BootEntryKind.GrubLegacy, Name = k.Title, Kernel = k.Kernel, File = t.FullPath, Line = k.Index + 1,
                Version = VersionFromImage(k.Kernel), CommandLine = args, CrashKernel = KernelCmdline.CrashKernelValues(args),
            };
        });

    private static string? VersionFromImage(string image)
    {
        string f = Path.GetFileName(image);
        return f.StartsWith("vmlinuz-", StringComparison.Ordinal) ? f["vmlinuz-".Length..] : null;
    }
}
