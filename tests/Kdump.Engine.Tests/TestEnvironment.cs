using System.Text.Json;

namespace Kdump.Engine.Tests;

/// <summary>Where the real dumps are: the committed sample (samples/) and the generated fixtures (KDUMP_FIXTURES_DIR).</summary>
public static class TestEnvironment
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SamplesDir => Environment.GetEnvironmentVariable("KDUMP_SAMPLES_DIR") is { Length: > 0 } s ? s : Path.Combine(RepoRoot, "samples");

    public static string? FixturesDir
    {
        get
        {
            var d = Environment.GetEnvironmentVariable("KDUMP_FIXTURES_DIR");
            return d is { Length: > 0 } && File.Exists(Path.Combine(d, "manifest.json")) ? d : null;
        }
    }

    /// <summary>
    /// Every generated fixture set (one per kernel): KDUMP_FIXTURES_DIR (Debian 12's 6.1, always run) first, then the
    /// directories of KDUMP_FIXTURES_EXTRA_DIRS (separated by ':'; build.ps1 passes the cached 6.12 / 7.x sets).
    /// </summary>
    public static IReadOnlyList<string> FixturesDirs
    {
        get
        {
            var all = new List<string>();
            if (FixturesDir is { } d) all.Add(d);
            foreach (var x in (Environment.GetEnvironmentVariable("KDUMP_FIXTURES_EXTRA_DIRS") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (File.Exists(Path.Combine(x, "manifest.json")) && !all.Contains(x)) all.Add(x);
            return all;
        }
    }

    public static bool HaveSample => File.Exists(Path.Combine(SamplesDir, "manifest.json"));

    public static JsonDocument LoadManifest(string dir) => JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));

    private static string FindRepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Kdump.psd1"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>A fact that needs the generated real-dump fixtures; skipped (and counted as skipped) without them.</summary>
public sealed class FixtureFactAttribute : FactAttribute
{
    public FixtureFactAttribute() { if (TestEnvironment.FixturesDir is null) Skip = "real-dump fixtures not generated (run build.ps1 -Task Fixtures)"; }
}

/// <summary>A fact that needs the committed sample dump under samples/.</summary>
public sealed class SampleFactAttribute : FactAttribute
{
    public SampleFactAttribute() { if (!TestEnvironment.HaveSample) Skip = "samples/manifest.json is missing"; }
}
