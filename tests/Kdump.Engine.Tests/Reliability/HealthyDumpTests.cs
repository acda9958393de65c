using System.Diagnostics;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Reliability;

/// <summary>The open-time checks and the task-list cross-checks raise nothing on healthy dumps of every producer and format.</summary>
public class HealthyDumpTests(ITestOutputHelper output)
{
    [FixtureFact]
    public void NoFixtureReportsAProblemOrATaskWarning()
    {
        string dir = TestEnvironment.FixturesDir!;
        using var m = TestEnvironment.LoadManifest(dir);
        var failures = new List<string>();
        foreach (var d in m.RootElement.GetProperty("dumps").EnumerateArray())
        {
            string name = d.GetProperty("name").GetString()!;
            var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToArray();
            var warnings = new List<string>();
            var results = DumpFile.OpenAll(files, null, new EngineHost { Warning = warnings.Add });
            using var v = new Vmcore(results[0].Dump ?? throw results[0].Error!);
            var sw = Stopwatch.StartNew();
            var t = TaskTable.Build(v.Kernel);
            output.WriteLine($"{name}: {t.Tasks.Count} tasks in {sw.ElapsedMilliseconds} ms; problems: {v.Dump.Problems.Count}; task warnings: {t.Warnings.Count}");
            foreach (var p in v.Dump.Problems.Concat(warnings).Concat(t.Warnings)) failures.Add($"{name}: {p}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
