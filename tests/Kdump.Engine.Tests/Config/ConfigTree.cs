using System.Text;

namespace Kdump.Engine.Tests.Config;

/// <summary>A temporary root file system built from the committed samples (tests/Kdump.Engine.Tests/Config/samples/&lt;name&gt;).</summary>
public sealed class ConfigTree : IDisposable
{
    public static string SamplesDir => Path.Combine(TestEnvironment.RepoRoot, "tests", "Kdump.Engine.Tests", "Config", "samples");

    public string Root { get; }

    public ConfigTree(params string[] samples)
    {
        Root = Path.Combine(Path.GetTempPath(), "kdump-config-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        foreach (var s in samples) CopyDir(Path.Combine(SamplesDir, s), Root);
    }

    public string P(string systemPath) => Path.Combine(Root, systemPath.TrimStart('/'));

    public void Write(string systemPath, string text)
    {
        string p = P(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text, new UTF8Encoding(false));
    }

    public string Read(string systemPath) => File.ReadAllText(P(systemPath));
    public byte[] Bytes(string systemPath) => File.ReadAllBytes(P(systemPath));

    /// <summary>A snapshot of every file's bytes, to prove what changed and what did not.</summary>
    public Dictionary<string, byte[]> Snapshot() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(Root, f), File.ReadAllBytes);

    public static string BlsId(string version) => "4a1c3d2e5f60718293a4b5c6d7e8f901-" + version;

    private static void CopyDir(string from, string to)
    {
        foreach (var d in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)), overwrite: true);
    }

    public void Dispose()
    {
        try
        {
            foreach (var d in Directory.EnumerateDirectories(Root, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
