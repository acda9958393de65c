using System.Globalization;
using Path = System.IO.Path;
using System.Text.RegularExpressions;

namespace Kdump.Engine.Config;

/// <summary>What one file of a <see cref="AtomicFileWriter.WriteAll"/> became.</summary>
internal sealed record WrittenFile(string Path, string? Backup, bool InPlace);

/// <summary>
/// Replaces several configuration files as one change: all or none.
/// <list type="number">
/// <item>Stage: for every file a copy of the original and a temporary file with the new content are written in the
/// file's directory and flushed to disk, each with the original's owner, mode and extended attributes (SELinux label,
/// POSIX ACLs, user.*). Any failure here removes the staged files: nothing changed.</item>
/// <item>Commit: the temporary files are renamed over the originals (a file with several hard links is rewritten in
/// place instead, so the links stay one file). If one fails, the files already replaced are put back from their staged
/// copies, and the error says exactly which files changed, were restored or could not be restored.</item>
/// <item>Backups: the staged copy of each original becomes &lt;file&gt;.bak the first time (that first original is never
/// overwritten) and &lt;file&gt;.bak.&lt;yyyyMMddHHmmss&gt; afterwards.</item>
/// </list>
/// Temporary files are named .&lt;file&gt;.kdump-&lt;pid&gt;-&lt;random&gt;.tmp; stale ones of ours (the owner process is gone,
/// or older than <see cref="StaleAfter"/>) in the directories written are removed on the next run.
/// </summary>
internal sealed partial class AtomicFileWriter
{
    /// <summary>Creates the temporary file (replaceable in tests to simulate a read-only directory).</summary>
    public Func<string, Stream> CreateTemp { get; init; } = p => new FileStream(p, FileMode.CreateNew, FileAccess.Write, FileShare.None);

    /// <summary>Writes the content and flushes it to disk (replaceable in tests to simulate a full disk).</summary>
    public Action<Stream, byte[]> WriteContent { get; init; } = (s, data) =>
    {
        s.Write(data);
        if (s is FileStream fs) fs.Flush(flushToDisk: true); else s.Flush();
    };

    /// <summary>Renames a staged file over its target (replaceable in tests to fail mid-way, like an immutable file).</summary>
    public Action<string, string> Replace { get; init; } = (from, to) => File.Move(from, to, overwrite: true);

    /// <summary>Rewrites an existing file in place, keeping its inode (hard links), and flushes it to disk.</summary>
    public Action<string, byte[]> Overwrite { get; init; } = (path, data) =>
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        fs.Write(data);
        fs.SetLength(data.Length);
        fs.Flush(flushToDisk: true);
    };

    public bool MakeBackup { get; init; } = true;

    /// <summary>The local time stamped on later backups.</summary>
    public Func<DateTime> Now { get; init; } = () => DateTime.Now;

    /// <summary>A temporary file of ours older than this is stale even if a process with its pid still runs.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Notes for -Verbose (stale files removed, backups kept).</summary>
    public Action<string> Log { get; init; } = _ => { };

    private sealed class Item
    {
        public required string Path { get; init; }
        public required byte[] Content { get; init; }
        public byte[]? Original { get; set; }
        public UnixMeta? Meta { get; set; }
        public string? OriginalCopy { get; set; }
        /// <summary>The backup name linked to <see cref="OriginalCopy"/> before any file is replaced.</summary>
        public string? Backup { get; set; }
        public string? Temp { get; set; }
        public bool InPlace { get; set; }
        public bool Committed { get; set; }
    }

    public IReadOnlyList<WrittenFile> WriteAll(IReadOnlyList<(string Path, byte[] Content)> files, CancellationToken cancel = default)
    {
        foreach (string dir in files.Select(f => Path.GetDirectoryName(Path.GetFullPath(f.Path)) ?? "/").Distinct())
            RemoveStaleTemps(dir, files.Select(f => Path.GetFileName(f.Path)).ToHashSet(StringComparer.Ordinal));

        var items = files.Select(f => new Item { Path = f.Path, Content = f.Content }).ToList();
        Stage(items, cancel);
        if (MakeBackup)
        {
            // backups first: each copy of an original gets its backup name (a hard link) before anything is replaced,
            // so a run killed from here on still leaves every original under a backup name
            foreach (var it in items.Where(i => i.OriginalCopy is not null)) it.Backup = LinkBackup(it);
            foreach (var dir in items.Select(i => Path.GetDirectoryName(i.Path)).Distinct()) UnixMeta.SyncDirectory(dir);
        }
        Commit(items);

        var result = new List<WrittenFile>();
        foreach (var it in items)
        {
            string? backup = it.Backup;
            if (it.OriginalCopy is not null)
            {
                if (backup is not null || !MakeBackup) TryDelete(it.OriginalCopy);
                else backup = KeepBackup(it);
            }
            result.Add(new WrittenFile(it.Path, backup, it.InPlace));
        }
        foreach (var dir in items.Select(i => Path.GetDirectoryName(i.Path)).Distinct()) UnixMeta.SyncDirectory(dir);
        return result;
    }

    /// <summary>Writes every temporary file and copy of an original; on any failure removes them all and reports that nothing changed.</summary>
    private void Stage(List<Item> items, CancellationToken cancel)
    {
        try
        {
            foreach (var it in items)
            {
                cancel.ThrowIfCancellationRequested();
                if (File.Exists(it.Path))
                {
                    it.Meta = UnixMeta.Read(it.Path);
                    it.Original = File.ReadAllBytes(it.Path);
                    it.OriginalCopy = StageFile(it.Path, it.Original, it.Meta);
                    it.InPlace = it.Meta is { Links: > 1 };
                }
                if (!it.InPlace) it.Temp = StageFile(it.Path, it.Content, it.Meta);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KdumpException or OperationCanceledException)
        {
            foreach (var it in items)
            {
                if (it.OriginalCopy is not null) TryDelete(it.OriginalCopy);
                if (it.Temp is not null) TryDelete(it.Temp);
            }
            if (e is KdumpException or OperationCanceledException) throw;
            bool denied = e is UnauthorizedAccessException;
            throw new KdumpException(denied ? "ConfigWriteDenied" : "ConfigWriteFailed", denied ? KdumpErrorKind.PermissionDenied : KdumpErrorKind.WriteError,
                $"Writing the kdump configuration failed before any file was replaced ({e.Message}); no file was changed.",
                items.FirstOrDefault(i => i.Temp is null && !i.InPlace)?.Path ?? items[0].Path, e);
        }
    }

    /// <summary>Replaces every file; when one fails, puts the ones already replaced back and says exactly what changed.</summary>
    private void Commit(List<Item> items)
    {
        Item? failed = null;
        Exception? error = null;
        foreach (var it in items)
        {
            try
            {
                if (it.InPlace) Overwrite(it.Path, it.Content);
                else Replace(it.Temp!, it.Path);
                it.Committed = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed = it;
                error = e;
                // a half-written in-place file must be restored as well
                if (it.InPlace) it.Committed = true;
                break;
            }
        }
        if (failed is null) return;

        var restored = new List<string>();
        var notRestored = new List<(string Path, string? Copy, string Why)>();
        foreach (var it in items.Where(i => i.Committed).Reverse())
        {
            try
            {
                if (it.InPlace) Overwrite(it.Path, it.Original!);
                else if (it.OriginalCopy is not null) { Replace(it.OriginalCopy, it.Path); it.OriginalCopy = null; }
                else File.Delete(it.Path);   // the file did not exist before
                restored.Add(it.Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                string? copy = it.Backup ?? (it.OriginalCopy is not null ? KeepBackup(it) : null);
                notRestored.Add((it.Path, copy, e.Message));
            }
        }
        foreach (var it in items)
        {
            if (it.Temp is not null) TryDelete(it.Temp);
            bool changed = notRestored.Any(n => n.Path == it.Path);
            // a file put back or never touched needs no backup of this attempt; a changed one keeps it
            if (!changed && it.Backup is not null) TryDelete(it.Backup);
            if (it.OriginalCopy is not null && (!changed || it.Backup is not null)) TryDelete(it.OriginalCopy);
        }
        foreach (var dir in items.Select(i => Path.GetDirectoryName(i.Path)).Distinct()) UnixMeta.SyncDirectory(dir);

        var putBack = restored.Where(r => r != failed.Path).ToList();
        var untouched = items.Where(i => i != failed && !i.Committed).Select(i => i.Path).ToList();
        string head = $"Replacing {failed.Path} failed ({error!.Message}).";
        string rest = (putBack.Count > 0 ? $" Already replaced and put back as they were: {string.Join(", ", Enumerable.Reverse(putBack))}." : "")
                      + (untouched.Count > 0 ? $" Not touched: {string.Join(", ", untouched)}." : "");
        if (notRestored.Count == 0)
        {
            bool denied = error is UnauthorizedAccessException;
            throw new KdumpException(denied ? "ConfigWriteDenied" : "ConfigWriteFailed", denied ? KdumpErrorKind.PermissionDenied : KdumpErrorKind.WriteError,
                head + rest + " No file was changed.", failed.Path, error);
        }
        throw new KdumpException("ConfigPartiallyWritten", KdumpErrorKind.WriteError,
            head + " CHANGED and could not be put back: " + string.Join("; ", notRestored.Select(n => $"{n.Path} ({n.Why}" + (n.Copy is null ? ")" : $"; the original is in {n.Copy})")))
            + "." + rest + " Run Test-KdumpConfig and fix the boot configuration before rebooting.", notRestored[0].Path, error);
    }

    /// <summary>Backup names in order: &lt;file&gt;.bak once, then &lt;file&gt;.bak.&lt;timestamp&gt;[.n] (never overwriting).</summary>
    private IEnumerable<string> BackupNames(string path)
    {
        string first = path + ".bak";
        string stamped = path + ".bak." + Now().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        if (!Path.Exists(first)) yield return first;
        yield return stamped;
        for (int n = 1; n < 100; n++) yield return stamped + "." + n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Hard-links the staged copy of an original to its backup name; null when links are not possible here.</summary>
    private string? LinkBackup(Item it)
    {
        foreach (string name in BackupNames(it.Path))
        {
            if (Path.Exists(name)) continue;
            int errno = UnixMeta.Link(it.OriginalCopy!, name);
            if (errno == 0) return name;
            if (errno != UnixMeta.EEXIST) return null;   // the backup is then named after the change, by rename
        }
        return null;
    }

    /// <summary>Renames the staged copy of an original to its backup name.</summary>
    private string? KeepBackup(Item it)
    {
        foreach (string name in BackupNames(it.Path))
        {
            if (Path.Exists(name)) continue;
            try
            {
                File.Move(it.OriginalCopy!, name, overwrite: false);
                it.OriginalCopy = null;
                return name;
            }
            catch (IOException) when (Path.Exists(name)) { }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log($"Could not keep the backup of {it.Path} as {name} ({e.Message}); it stays in {it.OriginalCopy}.");
                return it.OriginalCopy;
            }
        }
        return it.OriginalCopy;
    }

    private string StageFile(string target, byte[] content, UnixMeta? meta)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(target)) ?? ".";
        string temp = Path.Combine(dir, TempName(Path.GetFileName(target)));
        try
        {
            using (var s = CreateTemp(temp)) WriteContent(s, content);
            meta?.ApplyTo(temp, target);
            return temp;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    internal static string TempName(string file) =>
        "." + file + ".kdump-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12] + ".tmp";

    [GeneratedRegex(@"^\.(?<file>.+)\.kdump-(?<pid>[0-9]{1,10})-[0-9a-f]{12}\.tmp$")]
    private static partial Regex TempRegex();

    /// <summary>The pattern of earlier versions (no pid): only removed when old.</summary>
    [GeneratedRegex(@"^\.(?<file>.+)\.[0-9a-f]{12}\.tmp$")]
    private static partial Regex LegacyTempRegex();

    /// <summary>
    /// Removes our temporary files left by an interrupted run (kill -9, power loss) next to the files about to be
    /// written: only names of our pattern for those files, only when the process that made them is gone or they are old.
    /// </summary>
    internal int RemoveStaleTemps(string dir, IReadOnlySet<string> files)
    {
        int removed = 0;
        IEnumerable<string> entries;
        try { entries = Directory.EnumerateFiles(dir, ".*.tmp").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (string path in entries)
        {
            string name = Path.GetFileName(path);
            var m = TempRegex().Match(name);
            bool ours = m.Success;
            if (!ours) m = LegacyTempRegex().Match(name);
            if (!m.Success || !files.Contains(m.Groups["file"].Value)) continue;
            try
            {
                var info = new FileInfo(path);
                if (info.LinkTarget is not null || !info.Exists) continue;
                bool old = DateTime.UtcNow - info.LastWriteTimeUtc > StaleAfter;
                bool ownerGone = ours && int.TryParse(m.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                                 && pid != Environment.ProcessId && !ProcessAlive(pid);
                if (!old && !ownerGone) continue;
                File.Delete(path);
                removed++;
                Log($"Removed {path}, left by an interrupted Set-KdumpConfig.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool ProcessAlive(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    private static void TryDelete(string p)
    {
        try { File.Delete(p); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
