using System.IO.Enumeration;
using System.Text;

namespace Kdump.Engine.Config;

/// <summary>What Set-KdumpConfig is asked to change; null members stay as they are.</summary>
public sealed class KdumpConfigUpdate
{
    public string? Path { get; init; }
    /// <summary>"&lt;type&gt; &lt;location&gt;" (raw /dev/sdb1, xfs UUID=..., nfs host:/export, ssh user@host), or "local" for the root file system.</summary>
    public string? Target { get; init; }
    public string? CoreCollector { get; init; }
    public DumpCompression? Compression { get; init; }
    public int? DumpLevel { get; init; }
    /// <summary>One or more crashkernel values separated by blanks ("512M,high 128M,low"), without or with "crashkernel=".</summary>
    public string? CrashKernel { get; init; }
    public string? FailureAction { get; init; }
    public string? FinalAction { get; init; }
    /// <summary>Limits a crashkernel change to the boot entries matching this id, title, version or kernel path (wildcards allowed).</summary>
    public string? Kernel { get; init; }

    public bool IsEmpty => Path is null && Target is null && CoreCollector is null && Compression is null && DumpLevel is null
                           && CrashKernel is null && FailureAction is null && FinalAction is null;
}

/// <summary>Applies a <see cref="KdumpConfigUpdate"/> to the files of a host: only the lines asked for change (Set-KdumpConfig).</summary>
public static partial class KdumpConfigEditor
{
    public static readonly string[] FailureActions = ["reboot", "halt", "poweroff", "shell", "dump_to_rootfs"];
    public static readonly string[] FinalActions = ["reboot", "halt", "poweroff"];

    /// <summary>
    /// Plans the change, refuses a result Test-KdumpConfig rejects (unless <paramref name="force"/>), asks
    /// <see cref="EngineHost.ShouldProcess"/> file by file and writes the approved files atomically. Returns the changes
    /// written (none under -WhatIf or when everything is already as asked).
    /// </summary>
    public static IReadOnlyList<KdumpConfigChange> Set(string? root, KdumpConfigUpdate update, EngineHost host,
        KdumpConfigTestOptions? testOptions = null, bool force = false) =>
        Set(ConfigSnapshot.Load(new HostRoot(root)), update, host, testOptions ?? new KdumpConfigTestOptions(), force, new AtomicFileWriter { Log = host.Verbose });

    internal static IReadOnlyList<KdumpConfigChange> Set(ConfigSnapshot original, KdumpConfigUpdate update, EngineHost host,
        KdumpConfigTestOptions testOptions, bool force, AtomicFileWriter writer)
    {
        var (edited, changes) = Plan(original, update);
        if (changes.Count == 0)
        {
            host.Verbose("The kdump configuration already has every requested setting; nothing to change.");
            return [];
        }
        if (!force)
        {
            var errors = KdumpConfigValidator.Test(edited, testOptions).Where(f => f.Severity == FindingSeverity.Error).ToList();
            // a missing crashkernel= is not what this change is about: say it, but do not block an unrelated setting
            foreach (var ck in errors.Where(e => e.RuleId == "CrashKernelMissing" && update.CrashKernel is null).ToList())
            {
                host.Warning($"[{ck.RuleId}] {ck.Message} ({ck.SuggestedFix})");
                errors.Remove(ck);
            }
            if (errors.Count > 0)
                throw new KdumpException("KdumpConfigInvalid", KdumpErrorKind.InvalidData,
                    "The resulting kdump configuration would be rejected: " +
                    string.Join(" ", errors.Select(e => $"[{e.RuleId}] {e.Message}" + (e.SuggestedFix is null ? "" : $" ({e.SuggestedFix})"))) +
                    " Nothing was written; use -Force to write it anyway.", errors);
        }

        var approved = new List<(string Path, byte[] Content)>();
        var written = new List<KdumpConfigChange>();
        var originals = original.All().ToDictionary(t => t.FullPath, StringComparer.Ordinal);
        foreach (var text in edited.All().Where(t => t.Modified))
        {
            var fileChanges = changes.Where(c => c.File == text.FullPath).OrderBy(c => c.Line).ToList();
            if (fileChanges.Count == 0) continue;
            host.Cancellation.ThrowIfCancellationRequested();
            if (!host.ShouldProcess(text.FullPath, Describe(fileChanges))) continue;
            // resolved again right before writing: a link swapped since the read (or leading out of the root) is refused
            string real = original.Host.RealOfFull(text.FullPath);
            if (real != text.RealPath
                || (originals.TryGetValue(text.FullPath, out var orig) && File.Exists(real) && !File.ReadAllBytes(real).AsSpan().SequenceEqual(orig.ToBytes())))
                throw new KdumpException("ConfigFileChanged", KdumpErrorKind.WriteError,
                    $"{text.FullPath} changed on disk while Set-KdumpConfig was running; nothing was written. Run the command again.", text.FullPath);
            approved.Add((real, text.ToBytes()));
            written.AddRange(fileChanges);
        }
        if (approved.Count == 0) return [];
        // temporary files a killed run left next to any of the host's configuration files, not only the ones written now
        foreach (var dir in original.All().GroupBy(t => System.IO.Path.GetDirectoryName(t.RealPath) ?? "/"))
            writer.RemoveStaleTemps(dir.Key, dir.Select(t => System.IO.Path.GetFileName(t.RealPath)).ToHashSet(StringComparer.Ordinal));
        IReadOnlyList<WrittenFile> done;
        try { done = writer.WriteAll(approved, host.Cancellation); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the writer reports its own failures precisely; this is a failure outside its staging and commit steps
            throw new KdumpException(e is UnauthorizedAccessException ? "ConfigWriteDenied" : "ConfigWriteFailed",
                e is UnauthorizedAccessException ? KdumpErrorKind.PermissionDenied : KdumpErrorKind.WriteError,
                $"Writing the kdump configuration failed ({e.Message}).", approved[0].Path, e);
        }
        foreach (var d in done)
            host.Verbose($"Wrote {d.Path}" + (d.InPlace ? " in place (it has several hard links)" : "") + (d.Backup is null ? "." : $"; the previous version is in {d.Backup}."));
        return written;
    }

    /// <summary>A diff-like description of one file's changes for ShouldProcess / -WhatIf.</summary>
    internal static string Describe(IReadOnlyList<KdumpConfigChange> changes)
    {
        var sb = new StringBuilder("Set kdump " + string.Join(", ", changes.Select(c => c.Setting).Distinct()) + ":");
        foreach (var c in changes)
        {
            if (c.Old is not null) sb.Append('\n').Append($"-{c.Line,5}: {c.Old}");
            if (c.New is not null) sb.Append('\n').Append($"+{c.Line,5}: {c.New}");
        }
        return sb.ToString();
    }

    /// <summary>Computes the edited snapshot and the list of line changes without writing anything.</summary>
    internal static (ConfigSnapshot Edited, List<KdumpConfigChange> Changes) Plan(ConfigSnapshot original, KdumpConfigUpdate u)
    {
        if (u.IsEmpty)
            throw new KdumpException("KdumpSettingMissing", KdumpErrorKind.InvalidArgument, "Name at least one setting to change.");
        if (u.Kernel is not null && u.CrashKernel is null)
            throw new KdumpException("KernelWithoutCrashKernel", KdumpErrorKind.InvalidArgument, "-Kernel only selects the boot entries a -CrashKernel change applies to.");
        if (u.DumpLevel is < 0 or > 31)
            throw new KdumpException("DumpLevelOutOfRange", KdumpErrorKind.InvalidArgument, $"Dump level {u.DumpLevel} is outside 0-31.", u.DumpLevel);
        if (u.FailureAction is { } fa && !FailureActions.Contains(fa))
            throw new KdumpException("FailureActionInvalid", KdumpErrorKind.InvalidArgument, $"'{fa}' is not one of {string.Join(", ", FailureActions)}.", fa);
        if (u.FinalAction is { } fi && !FinalActions.Contains(fi))
            throw new KdumpException("FinalActionInvalid", KdumpErrorKind.InvalidArgument, $"'{fi}' is not one of {string.Join(", ", FinalActions)}.", fi);
        if (u.Path is { } p && (!p.StartsWith('/') || p.Any(char.IsControl)))
            throw new KdumpException("DumpPathInvalid", KdumpErrorKind.InvalidArgument, $"The dump path '{p}' must be an absolute path.", p);

        var s = original.Clone();
        var session = new EditSession();
        bool kdumpSettings = u.Path is not null || u.Target is not null || u.CoreCollector is not null || u.Compression is not null
                             || u.DumpLevel is not null || u.FailureAction is not null || u.FinalAction is not null;
        if (kdumpSettings)
        {
            switch (s.Flavor)
            {
                case KdumpConfigFlavor.RedHat: EditKdumpConf(s, s.KdumpConf!, u, session); break;
                case KdumpConfigFlavor.Debian: EditKdumpTools(s.KdumpTools!, u, session); break;
                case KdumpConfigFlavor.Suse:
                    throw new KdumpException("KdumpConfigFlavorNotSupported", KdumpErrorKind.NotSupported,
                        $"Editing SUSE's {ConfigSnapshot.SysconfigPath} is not supported; use yast2 kdump. Only -CrashKernel can be set here.", s.Sysconfig!.FullPath);
                default:
                    throw new KdumpException("KdumpConfigNotFound", KdumpErrorKind.NotFound,
                        $"No kdump configuration under {s.Host.Root} ({ConfigSnapshot.KdumpConfPath} or {ConfigSnapshot.KdumpToolsPath}); install kdump-utils/kexec-tools or kdump-tools first.", s.Host.Root);
            }
        }
        if (u.CrashKernel is not null) EditCrashKernel(s, u.CrashKernel, u.Kernel, session);
        return (s, session.Changes);
    }

    /// <summary>Records line edits and inserts as change objects, keeping earlier line numbers right after inserts.</summary>
    internal sealed class EditSession
    {
        public List<KdumpConfigChange> Changes { get; } = [];

        public void Set(ConfigText t, int index, string raw, string setting)
        {
            string old = t.Lines[index];
            if (old == raw) return;
            t.SetLine(index, raw);
            int existing = Changes.FindIndex(c => c.File == t.FullPath && c.Line == index + 1);
            if (existing >= 0)
            {
                var c = Changes[existing];
                Changes[existing] = new KdumpConfigChange { File = c.File, Line = c.Line, Old = c.Old, New = ConfigText.Decode(raw), Setting = c.Setting + ", " + setting };
            }
            else Changes.Add(new KdumpConfigChange { File = t.FullPath, Line = index + 1, Old = ConfigText.Decode(old), New = ConfigText.Decode(raw), Setting = setting });
        }

        public void Insert(ConfigText t, int index, string raw, string setting)
        {
            t.InsertLine(index, raw);
            for (int i = 0; i < Changes.Count; i++)
            {
                var c = Changes[i];
                if (c.File == t.FullPath && c.Line - 1 >= index)
                    Changes[i] = new KdumpConfigChange { File = c.File, Line = c.Line + 1, Old = c.Old, New = c.New, Setting = c.Setting };
            }
            Changes.Add(new KdumpConfigChange { File = t.FullPath, Line = index + 1, Old = null, New = ConfigText.Decode(raw), Setting = setting });
        }
    }

    internal static bool MatchesKernel(KernelBootEntry e, string pattern) =>
        new[] { e.Name, e.Kernel, e.Version ?? "", System.IO.Path.GetFileName(e.Kernel) }
            .Any(v => v.Length > 0 && FileSystemName.MatchesSimpleExpression(pattern, v, ignoreCase: false));
}
