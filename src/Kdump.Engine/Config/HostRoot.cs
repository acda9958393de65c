using System.Text;

namespace Kdump.Engine.Config;

/// <summary>
/// Resolves host paths (/etc/kdump.conf) under a root directory (-Root). Every read and write goes through
/// <see cref="Real"/>, which follows each path component's symbolic links itself and refuses a link that leads out of
/// the root (ConfigLinkOutsideRoot), a dangling link (ConfigLinkDangling) and a link loop (ConfigLinkLoop): nothing under
/// a -Root is ever read or written outside it.
/// </summary>
internal sealed class HostRoot
{
    /// <summary>Links followed while resolving one path (the kernel's own limit).</summary>
    public const int MaxLinks = 40;

    /// <summary>The root as given (full path).</summary>
    public string Root { get; }
    /// <summary>The root with its own symbolic links resolved.</summary>
    public string RealRoot { get; }
    public bool IsLiveSystem { get; }

    public HostRoot(string? root)
    {
        string r = string.IsNullOrEmpty(root) ? "/" : Path.GetFullPath(root);
        if (!Directory.Exists(r))
            throw new KdumpException("RootNotFound", KdumpErrorKind.NotFound, $"The root directory '{r}' does not exist.", r);
        Root = r;
        IsLiveSystem = Path.TrimEndingDirectorySeparator(r) is "/" or "" || r == "/";
        RealRoot = IsLiveSystem ? "/" : Path.TrimEndingDirectorySeparator(Walk("/", Split(r), restricted: false, null, null, new int[1]));
    }

    /// <summary>The path under the root as shown to the user (symbolic links not followed).</summary>
    public string Resolve(string systemPath)
    {
        string rel = systemPath.TrimStart('/');
        return IsLiveSystem ? "/" + rel : Path.Combine(Root, rel);
    }

    /// <summary>The real file behind a host path (/etc/default/grub): every component resolved inside the root.</summary>
    public string Real(string systemPath) => Walk(RealRoot, Split(systemPath), restricted: !IsLiveSystem, null, null, new int[1]);

    /// <summary>The real file behind a full path under the root (as <see cref="Resolve"/> gives it).</summary>
    public string RealOfFull(string fullPath)
    {
        string full = Path.GetFullPath(fullPath);
        string? rel = RelativeUnder(full, Path.TrimEndingDirectorySeparator(Root)) ?? RelativeUnder(full, RealRoot);
        if (rel is null)
            throw new KdumpException("ConfigLinkOutsideRoot", KdumpErrorKind.PermissionDenied, $"{fullPath} is outside {Root}.", fullPath);
        return Walk(RealRoot, Split(rel), restricted: !IsLiveSystem, null, null, new int[1]);
    }

    public bool FileExists(string systemPath) => File.Exists(Real(systemPath));
    public bool DirectoryExists(string systemPath) => Directory.Exists(Real(systemPath));

    /// <summary>A small text file under the root; null when it is missing or unreadable (a link out of the root is refused).</summary>
    public string? ReadSmallText(string systemPath, int maxBytes = 1 << 20)
    {
        string p = Real(systemPath);
        try
        {
            using var fs = new FileStream(p, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buf = new byte[maxBytes];
            int n = 0;
            while (n < buf.Length)
            {
                int r = fs.Read(buf, n, buf.Length - n);
                if (r == 0) break;
                n += r;
            }
            return Encoding.UTF8.GetString(buf, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static IEnumerable<string> Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    private static string Parent(string dir) => dir == "/" ? "/" : Path.GetDirectoryName(dir) is { Length: > 0 } p ? p : "/";

    private static string? RelativeUnder(string full, string dir)
    {
        if (dir == "/") return full;
        if (full == dir) return "";
        return full.StartsWith(dir + "/", StringComparison.Ordinal) ? full[(dir.Length + 1)..] : null;
    }

    private static string? LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return null; }
    }

    /// <summary>
    /// Walks <paramref name="components"/> from <paramref name="start"/> (a real directory), following every symbolic
    /// link as the kernel would, but never above <see cref="RealRoot"/> when restricted. Missing components are
    /// appended as they are (a file that does not exist yet).
    /// </summary>
    private string Walk(string start, IEnumerable<string> components, bool restricted, string? viaLink, string? viaTarget, int[] links)
    {
        string cur = start;
        foreach (string c in components)
        {
            if (c is "" or ".") continue;
            if (c == "..")
            {
                if (restricted && cur == RealRoot) throw Outside(viaLink, viaTarget);
                cur = Parent(cur);
                continue;
            }
            string next = Join(cur, c);
            string? target = LinkTarget(next);
            if (target is null) { cur = next; continue; }
            if (++links[0] > MaxLinks)
                throw new KdumpException("ConfigLinkLoop", KdumpErrorKind.InvalidData,
                    $"{Shown(next)}: more than {MaxLinks} symbolic links to follow (a link loop).", Shown(next));
            string resolved;
            if (target.StartsWith('/'))
            {
                if (!restricted) resolved = Walk("/", Split(target), false, next, target, links);
                else
                {
                    string norm = Path.GetFullPath(target);
                    string? rel = RelativeUnder(norm, RealRoot) ?? RelativeUnder(norm, Path.TrimEndingDirectorySeparator(Root));
                    if (rel is null) throw Outside(next, target);
                    resolved = Walk(RealRoot, Split(rel), true, next, target, links);
                }
            }
            else resolved = Walk(cur, Split(target), restricted, next, target, links);
            if (!Path.Exists(resolved))
                throw new KdumpException("ConfigLinkDangling", KdumpErrorKind.NotFound,
                    $"{Shown(next)} is a symbolic link to {target}, which does not exist.", Shown(next));
            cur = resolved;
        }
        return cur;
    }

    /// <summary>A real path under the root as the user named it (under -Root, not under its resolved form).</summary>
    private string Shown(string real) =>
        IsLiveSystem || RealRoot == Path.TrimEndingDirectorySeparator(Root) || RelativeUnder(real, RealRoot) is not { } rel ? real : Path.Combine(Root, rel);

    private KdumpException Outside(string? link, string? target) =>
        new("ConfigLinkOutsideRoot", KdumpErrorKind.PermissionDenied,
            link is null
                ? $"A path leads outside {Root}; nothing outside the root is read or written."
                : $"{Shown(link)} is a symbolic link to {target}, outside {Root}; nothing outside the root is read or written.",
            link is null ? Root : Shown(link));
}
