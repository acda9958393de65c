namespace Kdump.Engine.Config;

public static partial class KdumpConfigValidator
{
    private static void CheckPaths(ConfigSnapshot s, KdumpConfiguration config, List<KdumpConfigFinding> f)
    {
        var t = config.Target;
        var pathDir = config.Directives.LastOrDefault(d => d.Name is "path" or "KDUMP_COREDIR");
        string? file = pathDir?.File ?? config.ConfigFile;
        int line = pathDir?.Line ?? 0;
        if (t.IsDefault)
        {
            if (!s.Host.DirectoryExists(config.Path))
                f.Add(Warning("DumpPathMissing", file, line, $"The dump directory {config.Path} does not exist on the root file system.",
                    $"mkdir -p {config.Path}"));
            return;
        }
        if (FsTargets(t.Type) && FindMountPoint(s.Host, t.Location) is { } mnt)
        {
            string full = mnt.TrimEnd('/') + "/" + config.Path.TrimStart('/');
            if (!s.Host.DirectoryExists(full))
                f.Add(Warning("DumpPathMissing", file, line, $"The dump directory {config.Path} does not exist on {t.Location} (mounted on {mnt}; looked for {full}).",
                    $"mkdir -p {full}"));
        }
        else if (FsTargets(t.Type))
            f.Add(Info("DumpPathUnverified", t.File, t.Line, $"{t.Location} is not in /proc/mounts or /etc/fstab; {config.Path} on it cannot be checked."));
        if (t.Type == "ssh" && config.Flavor == KdumpConfigFlavor.RedHat && config.SshKey is { } key && !s.Host.FileExists(key))
            f.Add(Warning("SshKeyMissing", t.File, t.Line, $"The ssh key {key} does not exist.", "Run 'kdumpctl propagate' to create and install it."));
        if (t.Type == "ssh" && config.Flavor == KdumpConfigFlavor.Debian && config.SshKey is { Length: > 0 } dkey && !s.Host.FileExists(dkey))
            f.Add(Warning("SshKeyMissing", t.File, t.Line, $"The ssh key {dkey} does not exist.", "Run 'kdump-config propagate' to create and install it."));
        if (t.Type == "raw" && s.Host.IsLiveSystem && !Path.Exists(t.Location))
            f.Add(Warning("TargetDeviceMissing", t.File, t.Line, $"The raw device {t.Location} does not exist."));
    }

    private static bool FsTargets(string type) => KdumpConfigReader.FsTargets.Contains(type) || type == "mount";

    /// <summary>Where a device (path, LABEL=, UUID=) is mounted: /proc/mounts on a live system, else /etc/fstab.</summary>
    internal static string? FindMountPoint(HostRoot host, string device)
    {
        foreach (string table in host.IsLiveSystem ? new[] { "/proc/mounts", "/etc/fstab" } : ["/etc/fstab", "/proc/mounts"])
        {
            string? text = host.ReadSmallText(table);
            if (text is null) continue;
            foreach (string raw in text.Split('\n'))
            {
                string l = raw.Trim();
                if (l.Length == 0 || l[0] == '#') continue;
                var parts = l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2) continue;
                if (SameDevice(parts[0], device)) return parts[1].Replace("\\040", " ", StringComparison.Ordinal);
            }
        }
        return null;
    }

    private static bool SameDevice(string a, string b)
    {
        static string Norm(string d) => d.StartsWith("UUID=", StringComparison.OrdinalIgnoreCase) ? "UUID=" + d[5..].Trim('"').ToLowerInvariant()
            : d.StartsWith("LABEL=", StringComparison.Ordinal) ? "LABEL=" + d[6..].Trim('"') : d;
        return Norm(a) == Norm(b);
    }

    private static void CheckCrashKernel(ConfigSnapshot s, KdumpConfiguration config, KdumpConfigTestOptions options, List<KdumpConfigFinding> f)
    {
        var entries = config.BootEntries;
        if (entries.Count == 0)
        {
            f.Add(Warning("BootConfigNotFound", null, 0,
                $"No boot loader configuration (/etc/default/grub, /boot/loader/entries/*.conf, /boot/grub/grub.conf) under {s.Host.Root}; crashkernel= cannot be checked.",
                "Add crashkernel= to the kernel command line of your boot loader."));
            return;
        }
        if (entries.All(e => e.CrashKernel.Count == 0))
        {
            var target = entries.FirstOrDefault(e => e.Kind == BootEntryKind.BootLoaderSpec) ?? entries[0];
            f.Add(Error("CrashKernelMissing", target.File, target.Line, "No kernel command line reserves memory for the crash kernel (no crashkernel=); kdump cannot load.",
                $"Set-KdumpConfig -CrashKernel '{CrashKernelParser.DefaultRanges(options.Architecture)}'"));
        }
        else
        {
            foreach (var e in entries.Where(e => e.CrashKernel.Count == 0 && e.Kind is BootEntryKind.BootLoaderSpec or BootEntryKind.GrubLegacy
                                                  && !e.Name.Contains("rescue", StringComparison.OrdinalIgnoreCase)))
                f.Add(Warning("CrashKernelMissing", e.File, e.Line, $"The boot entry '{e.Name}' has no crashkernel= while others do; kdump does not work when it is booted.",
                    $"Set-KdumpConfig -CrashKernel <value> -Kernel '{e.Name}'"));
            CheckGrubDefaultAgrees(entries, f);
        }

        ulong? ram = options.MemoryBytes;
        if (ram is null) Guard(f, null, 0, () => ram = HostProbes.ParseMemTotal(s.Host.ReadSmallText("/proc/meminfo")));
        ulong recommended = ram is { } r0 ? CrashKernelParser.Recommended(r0, options.Architecture) : 0;
        foreach (var e in entries)
        {
            var main = new List<CrashKernelValue>();
            foreach (var v in e.CrashKernel)
            {
                if (v.Kind == CrashKernelKind.Invalid)
                    f.Add(Error("CrashKernelSyntax", e.File, e.Line, $"crashkernel={v.Value} ({e.Name}) is not valid: {v.Error}.",
                        "Write size[KMG][@offset], start-[end]:size[,...] or size,high / size,low."));
                else if (v.Kind == CrashKernelKind.Auto)
                    f.Add(Warning("CrashKernelAuto", e.File, e.Line, $"crashkernel=auto ({e.Name}) is a RHEL 7/8 value that current kernels do not know; kdumpctl replaces it.",
                        $"Set-KdumpConfig -CrashKernel '{CrashKernelParser.DefaultRanges(options.Architecture)}'"));
                else if (v.Modifier is CrashKernelModifier.None or CrashKernelModifier.High) main.Add(v);
            }
            if (main.Count > 1)
                f.Add(Warning("DuplicateCrashKernel", e.File, e.Line, $"{e.Name} has {main.Count} crashkernel= values ({string.Join(" ", main)}); the kernel uses only one of them.",
                    "Keep one crashkernel= (plus an optional ,low companion)."));
            if (ram is not { } mem || main.Count == 0) continue;
            var eff = main[^1];
            ulong size = eff.SizeFor(mem) ?? 0;
            string ramText = CrashKernelValue.FormatSize(mem >> 20 << 20);
            if (size == 0)
                f.Add(Warning("CrashKernelNoReservation", e.File, e.Line, $"crashkernel={eff.Value} ({e.Name}) reserves nothing on this machine's {ramText} of RAM: no range covers it.",
                    $"Set-KdumpConfig -CrashKernel {CrashKernelValue.FormatSize(recommended)}"));
            else if (size >= mem / 2)
                f.Add(Error("CrashKernelTooLarge", e.File, e.Line, $"crashkernel={eff.Value} ({e.Name}) reserves {CrashKernelValue.FormatSize(size)}, half or more of the {ramText} of RAM.",
                    $"Set-KdumpConfig -CrashKernel {CrashKernelValue.FormatSize(recommended)}"));
            else if (size < recommended)
                f.Add(Warning("CrashKernelTooSmall", e.File, e.Line,
                    $"crashkernel={eff.Value} ({e.Name}) reserves {CrashKernelValue.FormatSize(size)}; {CrashKernelValue.FormatSize(recommended)} is recommended for {ramText} of RAM on {options.Architecture}.",
                    $"Set-KdumpConfig -CrashKernel '{CrashKernelParser.DefaultRanges(options.Architecture)}'"));
        }
    }

    /// <summary>
    /// GRUB_CMDLINE_LINUX (what grub2-mkconfig and kernel-install give the next kernel) and the BLS entries must carry
    /// the same crashkernel=; they disagree after a hand edit of one side or an interrupted change.
    /// </summary>
    private static void CheckGrubDefaultAgrees(IReadOnlyList<KernelBootEntry> entries, List<KdumpConfigFinding> f)
    {
        var grub = entries.Where(e => e.Kind is BootEntryKind.GrubDefault or BootEntryKind.GrubDefaultDropIn && e.CrashKernel.Count > 0).ToList();
        if (grub.Count == 0) return;
        string grubValue = string.Join(' ', grub.SelectMany(e => e.CrashKernel).Select(v => v.Value));
        foreach (var e in entries.Where(e => e.Kind == BootEntryKind.BootLoaderSpec && e.CrashKernel.Count > 0))
        {
            string value = string.Join(' ', e.CrashKernel.Select(v => v.Value));
            if (value == grubValue) continue;
            f.Add(Warning("CrashKernelMismatch", e.File, e.Line,
                $"The boot entry '{e.Name}' has crashkernel={value} but {grub[0].Name} ({Path.GetFileName(grub[0].File)}:{grub[0].Line}) has crashkernel={grubValue}: the next kernel installed gets the other value.",
                $"Set-KdumpConfig -CrashKernel '{grubValue}'"));
        }
    }
}
