using System.Runtime.InteropServices;

namespace Kdump.Engine.Config;

/// <summary>
/// Replaces configuration files atomically: for every file a backup (&lt;file&gt;.bak) and a temporary file in the
/// same directory are written and fsynced first; only when all of them are complete are the temporary files renamed
/// over the originals. Owner and mode of each original are kept. A failure before the renames leaves every original
/// untouched and removes the temporary files.
/// </summary>
internal sealed class AtomicFileWriter
{
    /// <summary>Creates the temporary file (replaceable in tests to simulate a read-only directory).</summary>
    public Func<string, Stream> CreateTemp { get; init; } = p => new FileStream(p, FileMode.CreateNew, FileAccess.Write, FileShare.None);

    /// <summary>Writes the content and flushes it to disk (replaceable in tests to simulate a full disk).</summary>
    public Action<Stream, byte[]> WriteContent { get; init; } = (s, data) =>
    {
        s.Write(data);
        if (s is FileStream fs) fs.Flush(flushToDisk: true); else s.Flush();
    };

    public bool MakeBackup { get; init; } = true;

    public void WriteAll(IReadOnlyList<(string Path, byte[] Content)> files, CancellationToken cancel = default)
    {
        var staged = new List<(string Temp, string Target)>();
        try
        {
            foreach (var (path, content) in files)
            {
                cancel.ThrowIfCancellationRequested();
                var meta = UnixMeta.Read(path);
                if (MakeBackup && File.Exists(path))
                    staged.Add((Stage(path, File.ReadAllBytes(path), meta), path + ".bak"));
                staged.Add((Stage(path, content, meta), path));
            }
        }
        catch
        {
            foreach (var (temp, _) in staged) TryDelete(temp);
            throw;
        }
        // Point of no return: renames are atomic per file and do not need space.
        foreach (var (temp, target) in staged) File.Move(temp, target, overwrite: true);
        foreach (var dir in staged.Select(s => Path.GetDirectoryName(s.Target)).Distinct()) UnixMeta.SyncDirectory(dir);
    }

    private string Stage(string target, byte[] content, UnixMeta? meta)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(target)) ?? ".";
        string temp = Path.Combine(dir, "." + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            using (var s = CreateTemp(temp)) WriteContent(s, content);
            meta?.ApplyTo(temp);
            return temp;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string p)
    {
        try { File.Delete(p); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>Owner, group and mode of a file, read with statx(2) and restored with chown(2)/chmod(2).</summary>
internal sealed partial class UnixMeta
{
    public uint Uid { get; private init; }
    public uint Gid { get; private init; }
    public UnixFileMode Mode { get; private init; }

    public static UnixMeta? Read(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return null;
        var mode = File.GetUnixFileMode(path);
        if (!OperatingSystem.IsLinux()) return new UnixMeta { Uid = uint.MaxValue, Gid = uint.MaxValue, Mode = mode };
        Span<byte> buf = stackalloc byte[256];
        buf.Clear();
        const int AT_FDCWD = -100, STATX_UID = 0x8, STATX_GID = 0x10;
        uint uid = uint.MaxValue, gid = uint.MaxValue;
        try
        {
            unsafe
            {
                fixed (byte* p = buf)
                    if (statx(AT_FDCWD, path, 0, STATX_UID | STATX_GID, p) == 0)
                    {
                        uid = BitConverter.ToUInt32(buf[20..24]);
                        gid = BitConverter.ToUInt32(buf[24..28]);
                    }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return new UnixMeta { Uid = uid, Gid = gid, Mode = mode };
    }

    public void ApplyTo(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        File.SetUnixFileMode(path, Mode);
        if (Uid == uint.MaxValue || !OperatingSystem.IsLinux()) return;
        try
        {
            if (chown(path, Uid, Gid) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EPERM: an unprivileged user editing a file it may write keeps its own ownership; anything else is an error
                if (errno != 1)
                    throw new KdumpException("ConfigOwnerNotKept", KdumpErrorKind.WriteError, $"Cannot give {path} the original owner {Uid}:{Gid} (errno {errno}).", path);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    public static void SyncDirectory(string? dir)
    {
        if (dir is null || !OperatingSystem.IsLinux()) return;
        try
        {
            int fd = open(dir, 0);
            if (fd < 0) return;
            fsync(fd);
            close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, uint uid, uint gid);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
