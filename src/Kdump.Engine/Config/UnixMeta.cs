using System.Runtime.InteropServices;
using System.Text;

namespace Kdump.Engine.Config;

/// <summary>
/// What a replaced configuration file must keep besides its bytes: owner, group, mode, the number of hard links and
/// every extended attribute (security.selinux, system.posix_acl_access / _default, user.*, trusted.*). Read with
/// statx(2) and listxattr(2)/getxattr(2), restored with chown(2), chmod(2) and setxattr(2) on Linux; owner and
/// attributes are not handled elsewhere.
/// </summary>
internal sealed partial class UnixMeta
{
    private const int ENOTSUP = 95, ERANGE = 34, ENODATA = 61, EPERM = 1, ENOSYS = 38;
    public const int EEXIST = 17;
    private const int MaxXattrBytes = 1 << 16;

    public uint Uid { get; private init; } = uint.MaxValue;
    public uint Gid { get; private init; } = uint.MaxValue;
    public UnixFileMode Mode { get; private init; }
    /// <summary>Hard links to the file (1 when unknown).</summary>
    public uint Links { get; private init; } = 1;
    public IReadOnlyList<(string Name, byte[] Value)> Xattrs { get; private init; } = [];

    public static UnixMeta? Read(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return null;
        var mode = File.GetUnixFileMode(path);
        if (!OperatingSystem.IsLinux()) return new UnixMeta { Mode = mode };
        Span<byte> buf = stackalloc byte[256];
        buf.Clear();
        const int AT_FDCWD = -100, STATX_NLINK = 0x4, STATX_UID = 0x8, STATX_GID = 0x10;
        uint uid = uint.MaxValue, gid = uint.MaxValue, links = 1;
        try
        {
            unsafe
            {
                fixed (byte* p = buf)
                    if (statx(AT_FDCWD, path, 0, STATX_NLINK | STATX_UID | STATX_GID, p) == 0)
                    {
                        links = BitConverter.ToUInt32(buf[16..20]);
                        uid = BitConverter.ToUInt32(buf[20..24]);
                        gid = BitConverter.ToUInt32(buf[24..28]);
                    }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return new UnixMeta { Uid = uid, Gid = gid, Mode = mode, Links = Math.Max(links, 1), Xattrs = ReadXattrs(path) };
    }

    /// <summary>Gives <paramref name="path"/> (a staged file) the owner, mode and extended attributes of <paramref name="original"/>.</summary>
    public void ApplyTo(string path, string original)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            if (Uid != uint.MaxValue && OperatingSystem.IsLinux() && chown(path, Uid, Gid) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EPERM: an unprivileged user editing a file it may write keeps its own ownership; anything else is an error
                if (errno != EPERM)
                    throw new KdumpException("ConfigOwnerNotKept", KdumpErrorKind.WriteError,
                        $"Cannot give the new {original} its owner {Uid}:{Gid} (errno {errno}); no file was changed.", original);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        File.SetUnixFileMode(path, Mode);
        foreach (var (name, value) in Xattrs)
        {
            int rc;
            unsafe
            {
                fixed (byte* v = value) rc = setxattr(path, name, v, (nuint)value.Length, 0);
            }
            if (rc != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new KdumpException("ConfigAttributesNotKept", KdumpErrorKind.WriteError,
                    $"Cannot give the new {original} its extended attribute {name} (errno {errno}); no file was changed.", original);
            }
        }
    }

    /// <summary>Every extended attribute of a file (empty when the file system or platform has none).</summary>
    internal static IReadOnlyList<(string Name, byte[] Value)> ReadXattrs(string path)
    {
        if (!OperatingSystem.IsLinux()) return [];
        try
        {
            var names = new byte[MaxXattrBytes];
            nint n;
            unsafe
            {
                fixed (byte* p = names) n = listxattr(path, p, (nuint)names.Length);
            }
            if (n <= 0) return [];
            var list = new List<(string, byte[])>();
            foreach (string name in Encoding.UTF8.GetString(names, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries))
                if (GetXattr(path, name) is { } v) list.Add((name, v));
            return list;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return []; }
    }

    internal static byte[]? GetXattr(string path, string name)
    {
        var buf = new byte[MaxXattrBytes];
        nint n;
        unsafe
        {
            fixed (byte* p = buf) n = getxattr(path, name, p, (nuint)buf.Length);
        }
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENODATA or ENOTSUP) return null;
            throw new KdumpException("ConfigAttributesUnreadable", KdumpErrorKind.ReadError,
                $"Cannot read the extended attribute {name} of {path} (errno {(errno == ERANGE ? "ERANGE: over 64 KiB" : errno)}); no file was changed.", path);
        }
        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>link(2): 0, or the errno (ENOSYS where there is no link(2)).</summary>
    public static int Link(string existing, string newPath)
    {
        if (OperatingSystem.IsWindows()) return ENOSYS;
        try { return link(existing, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return ENOSYS; }
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
    private static unsafe partial nint listxattr(string path, byte* list, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint getxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int setxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string newPath);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
