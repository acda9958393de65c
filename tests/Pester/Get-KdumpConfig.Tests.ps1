BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ConfigSamples = Join-Path $RepoRoot 'tests/Kdump.Engine.Tests/Config/samples'
    function New-ConfigRoot([string] $Sample) {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $root | Out-Null
        if ($Sample) { Copy-Item -Recurse (Join-Path $ConfigSamples "$Sample/*") $root }
        $root
    }
}

Describe 'Get-KdumpConfig' {
    Context 'Summary of <Sample>' -ForEach @(
        @{ Sample = 'rhel6'; Flavor = 'RedHat'; Compression = 'Zlib'; DumpLevel = 31; CrashKernel = 'auto' }
        @{ Sample = 'rhel9'; Flavor = 'RedHat'; Compression = 'Lzo'; DumpLevel = 31; CrashKernel = '1G-4G:192M,4G-64G:256M,64G-:512M' }
        @{ Sample = 'debian'; Flavor = 'Debian'; Compression = 'Zlib'; DumpLevel = 31; CrashKernel = '384M-:128M' }
    ) {
        It 'returns one typed summary' {
            $c = Get-KdumpConfig -Root (New-ConfigRoot $Sample)
            $c | Should -HaveCount 1
            $c | Should -BeOfType ([Kdump.Engine.Config.KdumpConfiguration])
            $c.Flavor | Should -Be $Flavor
            $c.CoreCollector.Compression | Should -Be $Compression
            $c.CoreCollector.DumpLevel | Should -Be $DumpLevel
            $c.CrashKernel | Should -Be $CrashKernel
            $c.Path | Should -Be '/var/crash'
        }
    }

    Context 'Directives' {
        It 'lists directives with file and line, filtered by wildcard' {
            $root = New-ConfigRoot 'rhel6'
            $d = Get-KdumpConfig -Root $root -Directive core*
            $d | Should -HaveCount 1
            $d.Name | Should -Be 'core_collector'
            $d.Value | Should -Be 'makedumpfile -c --message-level 1 -d 31'
            $d.Line | Should -Be 22
            $d.File | Should -Be (Join-Path $root 'etc/kdump.conf')
        }
        It 'lists Debian variables' {
            (Get-KdumpConfig -Root (New-ConfigRoot 'debian') -Directive USE_KDUMP).Value | Should -Be '1'
        }
    }

    Context 'Boot entries' {
        It 'returns every BLS entry and the GRUB default' {
            $e = Get-KdumpConfig -Root (New-ConfigRoot 'rhel9') -BootEntry
            @($e | Where-Object Kind -eq 'BootLoaderSpec') | Should -HaveCount 3
            @($e | Where-Object Kind -eq 'GrubDefault') | Should -HaveCount 1
        }
        It 'formats with the default view' {
            $text = Get-KdumpConfig -Root (New-ConfigRoot 'rhel9') -BootEntry | Out-String
            $text | Should -Match 'BootLoaderSpec'
            $text | Should -Match '1G-4G:192M'
        }
    }

    Context 'Errors' {
        It 'reports a missing root as RootNotFound' {
            $r = Get-KdumpConfig -Root (Join-Path $TestDrive 'nope') -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'RootNotFound,*'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        It 'returns an empty summary when nothing is configured' {
            (Get-KdumpConfig -Root (New-ConfigRoot '')).Flavor | Should -Be 'None'
        }
    }

    Context 'Views at 80 columns' {
        It 'shows each boot entry by version with its whole crashkernel= value' {
            $text = Get-KdumpConfig -Root (New-ConfigRoot 'rhel9') -BootEntry | Out-String -Width 80
            $lines = $text -split "`r?`n"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $text | Should -Match '5\.14\.0-284\.11\.1\.el9_2\.x86_64'
            $text | Should -Match '5\.14\.0-362\.8\.1\.el9_3\.x86_64'
            ($lines -join '') -replace '\s+', '' | Should -Match ([regex]::Escape('1G-4G:192M,4G-64G:256M,64G-:512M'))
        }
    }
}
